// Package kubetest runs a real etcd and kube-apiserver on loopback for tests, with
// RBAC on, and gives tests an admin client and the agent's least-privilege
// ServiceAccount token. The binaries are built once by scripts/kube-control-plane.sh
// into a cache outside the work tree; without them tests skip, saying so.
//
// A ControlPlane belongs to one test and stops with it (t.Cleanup).
package kubetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// DefaultBinDir is where scripts/kube-control-plane.sh puts the binaries.
const DefaultBinDir = "/var/cache/tlsaudit/kube-v1.37.2"

const adminToken = "tlsaudit-test-admin"

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	dir, bin  string
	etcdURL   string
	port      int
	apiserver *exec.Cmd
	etcd      *exec.Cmd
	caPEM     []byte
}

// Start starts etcd and kube-apiserver and waits until the API server is ready.
func Start(t testing.TB) *ControlPlane {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the control-plane tests run as root (CI does)")
	}
	bin := os.Getenv("TLSAUDIT_KUBE_BIN")
	if bin == "" {
		bin = DefaultBinDir
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Skipf("no %s in %s: run scripts/kube-control-plane.sh (.ci/run does)", b, bin)
		}
	}
	cp := &ControlPlane{dir: t.TempDir(), bin: bin}
	cp.writeCredentials(t)
	client, peer := freePort(t), freePort(t)
	cp.etcdURL = "http://127.0.0.1:" + strconv.Itoa(client)
	cp.etcd = cp.spawn(t, "etcd", "--data-dir", filepath.Join(cp.dir, "etcd"), "--unsafe-no-fsync",
		"--listen-client-urls", cp.etcdURL, "--advertise-client-urls", cp.etcdURL,
		"--listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(peer))
	cp.port = freePort(t)
	cp.startAPIServer(t)
	t.Cleanup(func() {
		stop(cp.apiserver)
		stop(cp.etcd)
	})
	return cp
}

func (cp *ControlPlane) startAPIServer(t testing.TB) {
	t.Helper()
	d := cp.dir
	cp.apiserver = cp.spawn(t, "kube-apiserver",
		"--etcd-servers", cp.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port", strconv.Itoa(cp.port),
		"--endpoint-reconciler-type=none",
		"--authorization-mode=RBAC",
		"--token-auth-file", filepath.Join(d, "tokens.csv"),
		"--tls-cert-file", filepath.Join(d, "serving.crt"), "--tls-private-key-file", filepath.Join(d, "serving.key"),
		"--service-account-key-file", filepath.Join(d, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(d, "sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--disable-admission-plugins=ServiceAccount")
	if err := cp.waitReady(60 * time.Second); err != nil {
		t.Fatalf("kube-apiserver: %v\n%s", err, tail(filepath.Join(d, "kube-apiserver.log")))
	}
}

// Stop stops the API server (etcd keeps the data), as an outage would.
func (cp *ControlPlane) Stop() { stop(cp.apiserver) }

// Restart starts the API server again on the same port, after Stop.
func (cp *ControlPlane) Restart(t testing.TB) { cp.startAPIServer(t) }

// URL is the API server's address.
func (cp *ControlPlane) URL() string { return "https://127.0.0.1:" + strconv.Itoa(cp.port) }

// AdminConfig is a client config in group system:masters.
func (cp *ControlPlane) AdminConfig() *rest.Config {
	return &rest.Config{Host: cp.URL(), BearerToken: adminToken, TLSClientConfig: rest.TLSClientConfig{CAData: cp.caPEM}}
}

// AgentConfig creates the agent's ServiceAccount (tlsaudit/tlsaudit), a ClusterRole
// with the rules of deploy/helm/tlsaudit/files/clusterrole-rules.yaml bound to it,
// and returns a config that authenticates with a token of that account only.
func (cp *ControlPlane) AgentConfig(t testing.TB) *rest.Config {
	t.Helper()
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	EnsureNamespace(t, cs, "tlsaudit")
	rules := RBACRules(t)
	must := func(err error) {
		t.Helper()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	_, err := cs.CoreV1().ServiceAccounts("tlsaudit").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "tlsaudit"}}, metav1.CreateOptions{})
	must(err)
	_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "tlsaudit"}, Rules: rules}, metav1.CreateOptions{})
	must(err)
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "tlsaudit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "tlsaudit"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tlsaudit", Namespace: "tlsaudit"}},
	}, metav1.CreateOptions{})
	must(err)
	exp := int64(3600)
	tok, err := cs.CoreV1().ServiceAccounts("tlsaudit").CreateToken(ctx, "tlsaudit",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	return &rest.Config{Host: cp.URL(), BearerToken: tok.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: cp.caPEM}}
}

// RBACRules reads the agent's ClusterRole rules from the chart's file.
func RBACRules(t testing.TB) []rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy/helm/tlsaudit/files/clusterrole-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []rbacv1.PolicyRule
	if err := yaml.UnmarshalStrict(data, &rules); err != nil {
		t.Fatalf("clusterrole-rules.yaml: %v", err)
	}
	return rules
}

// WriteKubeconfig writes a kubeconfig for cfg (server, CA, token) to path, for an
// agent process.
func WriteKubeconfig(t testing.TB, path string, cfg *rest.Config) {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["agent"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "agent"}
	kc.CurrentContext = "test"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
}

// EnsureNamespace creates a namespace if it is missing.
func EnsureNamespace(t testing.TB, cs kubernetes.Interface, ns string) {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// Pod describes a pod to create.
type Pod struct {
	Namespace, Name, IP, Node string
	Owner                     *metav1.OwnerReference
	HostNetwork               bool
}

// CreatePod creates a pod and sets its status (Running, podIP) through the status
// subresource, as a kubelet would; there is no kubelet here.
func CreatePod(t testing.TB, cs kubernetes.Interface, p Pod) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	EnsureNamespace(t, cs, p.Namespace)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
		Spec: corev1.PodSpec{NodeName: p.Node, HostNetwork: p.HostNetwork,
			Containers: []corev1.Container{{Name: "app", Image: "example.test/app:1"}}},
	}
	if p.Owner != nil {
		pod.OwnerReferences = []metav1.OwnerReference{*p.Owner}
	}
	created, err := cs.CoreV1().Pods(p.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s/%s: %v", p.Namespace, p.Name, err)
	}
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: p.IP, PodIPs: []corev1.PodIP{{IP: p.IP}}, HostIP: p.IP}
	updated, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("pod %s/%s status: %v", p.Namespace, p.Name, err)
	}
	return updated
}

// Controller is an owner reference marked as the controller.
func Controller(apiVersion, kind, name string) *metav1.OwnerReference {
	yes := true
	return &metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-" + kind + "-" + name), Controller: &yes}
}

func (cp *ControlPlane) spawn(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	log, err := os.Create(filepath.Join(cp.dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(cp.bin, name), args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return cmd
}

func (cp *ControlPlane) waitReady(timeout time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.caPEM)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, cp.URL()+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("readyz: %s", resp.Status)
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %v", timeout, last)
}

// writeCredentials writes the serving certificate, the service-account key pair and
// the static token file.
func (cp *ControlPlane) writeCredentials(t testing.TB) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cp.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, _ := x509.MarshalECPrivateKey(key)
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	files := map[string][]byte{
		"serving.crt": cp.caPEM,
		"serving.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		"sa.key":      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sa)}),
		"sa.pub":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv":  []byte(adminToken + ",admin,admin-uid,system:masters\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(cp.dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(bytes.TrimSpace(data))
}

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
