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
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// DefaultBinDir is where scripts/kube-control-plane.sh puts etcd and kube-apiserver
// when TLSAUDIT_KUBE_BIN is not set.
const DefaultBinDir = "/var/cache/tlsaudit/kube-v1.37.2"

// RulesFile is the agent's ClusterRole rules, relative to the repository root: the
// file the Helm chart includes in its ClusterRole.
const RulesFile = "deploy/helm/tlsaudit/files/clusterrole-rules.yaml"

// AgentNamespace and AgentName name the agent's namespace, ServiceAccount,
// ClusterRole and ClusterRoleBinding that AgentConfig creates.
const (
	AgentNamespace = "tlsaudit"
	AgentName      = "tlsaudit"
)

const (
	adminToken   = "tlsaudit-test-admin"
	readyTimeout = 60 * time.Second
	stopGrace    = 10 * time.Second
)

// ControlPlane is a running etcd and kube-apiserver on 127.0.0.1.
type ControlPlane struct {
	dir, bin  string
	etcdURL   string
	port      int
	caPEM     []byte
	etcd      *process
	apiserver *process
}

// process is a started binary: Wait runs in a goroutine so that an early exit shows
// while waiting for readiness.
type process struct {
	name   string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// BinDir is the folder that holds etcd and kube-apiserver: TLSAUDIT_KUBE_BIN, or
// DefaultBinDir.
func BinDir() string {
	if dir := os.Getenv("TLSAUDIT_KUBE_BIN"); dir != "" {
		return dir
	}
	return DefaultBinDir
}

// Start starts etcd and kube-apiserver, both on free loopback ports with their data
// and logs in t.TempDir(), and waits until the API server's /readyz answers OK. It
// skips the test when the binaries have not been built; both stop when the test
// ends.
func Start(t testing.TB) *ControlPlane {
	t.Helper()
	bin := BinDir()
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if fi, err := os.Stat(filepath.Join(bin, b)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			t.Skipf("no %s in %s: build it with scripts/kube-control-plane.sh (.ci/run does; TLSAUDIT_KUBE_BIN chooses the folder)", b, bin)
		}
	}
	cp := &ControlPlane{dir: t.TempDir(), bin: bin}
	if err := cp.writeCredentials(); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	t.Cleanup(func() {
		cp.Stop()
		cp.etcd.stop()
	})

	ports, err := freePorts(3)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	cp.etcdURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	cp.etcd, err = cp.spawn("etcd",
		"--name", "kubetest",
		"--data-dir", filepath.Join(cp.dir, "etcd-data"),
		"--unsafe-no-fsync",
		"--listen-client-urls", cp.etcdURL, "--advertise-client-urls", cp.etcdURL,
		"--listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--initial-advertise-peer-urls", "http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--initial-cluster", "kubetest=http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--log-level", "warn")
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	cp.port = ports[2]
	cp.startAPIServer(t)
	return cp
}

// startAPIServer starts kube-apiserver on cp.port and waits for /readyz.
func (cp *ControlPlane) startAPIServer(t testing.TB) {
	t.Helper()
	d := cp.dir
	start := time.Now()
	var err error
	cp.apiserver, err = cp.spawn("kube-apiserver",
		"--etcd-servers", cp.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port", strconv.Itoa(cp.port),
		"--endpoint-reconciler-type=none",
		"--authorization-mode=RBAC",
		"--token-auth-file", filepath.Join(d, "tokens.csv"),
		"--tls-cert-file", filepath.Join(d, "serving.crt"),
		"--tls-private-key-file", filepath.Join(d, "serving.key"),
		"--service-account-key-file", filepath.Join(d, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(d, "sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--disable-admission-plugins=ServiceAccount",
		"--cert-dir", filepath.Join(d, "apiserver-certs"))
	if err == nil {
		err = cp.waitReady(readyTimeout)
	}
	if err != nil {
		t.Fatalf("kubetest: kube-apiserver: %v\n%s", err, cp.logTails())
	}
	t.Logf("kubetest: kube-apiserver ready at %s in %s", cp.URL(), time.Since(start).Round(time.Millisecond))
}

// Stop stops the API server and waits until it has exited; etcd keeps running with
// every object, as in an outage of the API server alone. Stopping a stopped API
// server does nothing.
func (cp *ControlPlane) Stop() {
	cp.apiserver.stop()
	cp.apiserver = nil
}

// Restart starts the API server again on the same address, with the same
// credentials, and waits until it is ready; a running one is stopped first.
func (cp *ControlPlane) Restart(t testing.TB) {
	t.Helper()
	cp.Stop()
	cp.startAPIServer(t)
}

// URL is the API server's address, https://127.0.0.1:PORT; it stays the same across
// Restart.
func (cp *ControlPlane) URL() string { return "https://127.0.0.1:" + strconv.Itoa(cp.port) }

// CAData is the PEM certificate that the API server serves with (self-signed).
func (cp *ControlPlane) CAData() []byte { return bytes.Clone(cp.caPEM) }

// Dir is the control plane's folder: credentials and the logs of etcd and
// kube-apiserver (etcd.log, kube-apiserver.log).
func (cp *ControlPlane) Dir() string { return cp.dir }

// AdminConfig is a client config with a static token in group system:masters, which
// RBAC lets do anything.
func (cp *ControlPlane) AdminConfig() *rest.Config {
	return cp.tokenConfig(adminToken)
}

func (cp *ControlPlane) tokenConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            cp.URL(),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.CAData()},
		QPS:             100,
		Burst:           200,
	}
}

// AgentConfig creates the agent's namespace and ServiceAccount (tlsaudit/tlsaudit),
// a ClusterRole tlsaudit with the rules of RulesFile and a ClusterRoleBinding of it
// to that account, then returns a config that authenticates with a token of that
// account only, from the TokenRequest API. It returns once RBAC lets the token list
// pods. Calling it again gives a new token for the same account.
func (cp *ControlPlane) AgentConfig(t testing.TB) *rest.Config {
	t.Helper()
	cfg, err := cp.agentConfig(context.Background(), RBACRules(t))
	if err != nil {
		t.Fatalf("kubetest: agent config: %v", err)
	}
	return cfg
}

func (cp *ControlPlane) agentConfig(ctx context.Context, rules []rbacv1.PolicyRule) (*rest.Config, error) {
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	if err != nil {
		return nil, fmt.Errorf("admin client: %w", err)
	}
	if err := ensureNamespace(ctx, cs, AgentNamespace); err != nil {
		return nil, err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: AgentName, Namespace: AgentNamespace}}
	if _, err := cs.CoreV1().ServiceAccounts(AgentNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create service account: %w", err)
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: AgentName}, Rules: rules}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		old, err := cs.RbacV1().ClusterRoles().Get(ctx, AgentName, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get cluster role: %w", err)
		}
		old.Rules = rules
		if _, err := cs.RbacV1().ClusterRoles().Update(ctx, old, metav1.UpdateOptions{}); err != nil {
			return nil, fmt.Errorf("update cluster role: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("create cluster role: %w", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: AgentName},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: AgentName},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: AgentName, Namespace: AgentNamespace}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create cluster role binding: %w", err)
	}
	cfg, err := cp.serviceAccountConfig(ctx, cs, AgentNamespace, AgentName)
	if err != nil {
		return nil, err
	}

	// The authorizer learns of the new binding through its informers: wait until it
	// has, so that the caller's first request is judged by the rules.
	agent, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("agent client: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := agent.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			return cfg, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the agent token cannot list pods after 30s: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ServiceAccountConfig returns a config that authenticates as the existing
// ServiceAccount ns/name, with a token from the TokenRequest API, and creates
// nothing: what that account may do is what the objects a test applied grant it.
func (cp *ControlPlane) ServiceAccountConfig(t testing.TB, ns, name string) *rest.Config {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.AdminConfig())
	if err != nil {
		t.Fatalf("kubetest: admin client: %v", err)
	}
	cfg, err := cp.serviceAccountConfig(context.Background(), cs, ns, name)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return cfg
}

func (cp *ControlPlane) serviceAccountConfig(ctx context.Context, cs kubernetes.Interface, ns, name string) (*rest.Config, error) {
	exp := int64(3600)
	tr := &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, tr, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token request for %s/%s: %w", ns, name, err)
	}
	return cp.tokenConfig(tok.Status.Token), nil
}

// RBACRules reads the agent's ClusterRole rules from RulesFile, found by walking up
// from the working directory to the folder with go.mod. Unknown fields fail the
// test.
func RBACRules(t testing.TB) []rbacv1.PolicyRule {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	rules, err := ReadRules(filepath.Join(root, RulesFile))
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return rules
}

// ReadRules decodes a YAML list of RBAC PolicyRules, strictly: unknown fields are
// errors, and so is an empty list.
func ReadRules(path string) ([]rbacv1.PolicyRule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	var rules []rbacv1.PolicyRule
	if err := yaml.UnmarshalStrict(data, &rules); err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("rules %s: no rules", path)
	}
	return rules, nil
}

// WriteKubeconfig writes a kubeconfig file for cfg to path (mode 0600): the server,
// its CA (or insecure-skip-tls-verify when cfg says so) and cfg's bearer token, for
// an agent that runs as a separate process.
func (cp *ControlPlane) WriteKubeconfig(t testing.TB, path string, cfg *rest.Config) {
	t.Helper()
	if err := writeKubeconfig(path, cfg); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
}

func writeKubeconfig(path string, cfg *rest.Config) error {
	cluster := &clientcmdapi.Cluster{Server: cfg.Host, InsecureSkipTLSVerify: cfg.Insecure}
	if !cfg.Insecure {
		cluster.CertificateAuthorityData = cfg.CAData
		if len(cfg.CAData) == 0 && cfg.CAFile != "" {
			ca, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return fmt.Errorf("kubeconfig CA: %w", err)
			}
			cluster.CertificateAuthorityData = ca
		}
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kubetest"] = cluster
	kc.AuthInfos["kubetest"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: "kubetest"}
	kc.CurrentContext = "kubetest"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// EnsureNamespace creates namespace ns unless it exists.
func EnsureNamespace(t testing.TB, cs kubernetes.Interface, ns string) {
	t.Helper()
	if err := ensureNamespace(context.Background(), cs, ns); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
}

func ensureNamespace(ctx context.Context, cs kubernetes.Interface, ns string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

// Pod describes a pod for CreatePod.
type Pod struct {
	Namespace, Name string
	// IP is the pod's status.podIP (and its only podIPs entry).
	IP string
	// Node is spec.nodeName.
	Node string
	// Owner, when set, is the pod's only owner reference (see Controller).
	Owner       *metav1.OwnerReference
	HostNetwork bool
}

// CreatePod is CreatePodContext for a test: it fails the test on an error.
func CreatePod(t testing.TB, cs kubernetes.Interface, p Pod) *corev1.Pod {
	t.Helper()
	pod, err := CreatePodContext(context.Background(), cs, p.Namespace, p.Name, p.IP, p.Node, p.Owner, p.HostNetwork)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return pod
}

// CreatePodContext creates a pod in namespace ns (creating the namespace if it is
// missing), then sets its status through the status subresource as a kubelet would,
// since there is none: phase Running, Ready, podIP and podIPs ip, and hostIP the
// node's InternalIP when that Node object exists, else ip for a hostNetwork pod.
// It returns the pod as stored.
func CreatePodContext(ctx context.Context, cs kubernetes.Interface, ns, name, ip, node string, owner *metav1.OwnerReference, hostNetwork bool) (*corev1.Pod, error) {
	if err := ensureNamespace(ctx, cs, ns); err != nil {
		return nil, err
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			NodeName:    node,
			HostNetwork: hostNetwork,
			Containers:  []corev1.Container{{Name: "app", Image: "example.test/app:1"}},
		},
	}
	if owner != nil {
		pod.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	created, err := createRetrying(ctx, func() (*corev1.Pod, error) {
		return cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	})
	if err != nil {
		return nil, fmt.Errorf("create pod %s/%s: %w", ns, name, err)
	}
	hostIP := ""
	if node != "" {
		if n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err == nil {
			for _, a := range n.Status.Addresses {
				if a.Type == corev1.NodeInternalIP {
					hostIP = a.Address
					break
				}
			}
		}
	}
	if hostIP == "" && hostNetwork {
		hostIP = ip
	}
	now := metav1.Now()
	created.Status = corev1.PodStatus{
		Phase:     corev1.PodRunning,
		PodIP:     ip,
		PodIPs:    []corev1.PodIP{{IP: ip}},
		HostIP:    hostIP,
		StartTime: &now,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
	}
	if hostIP != "" {
		created.Status.HostIPs = []corev1.HostIP{{IP: hostIP}}
	}
	updated, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s status: %w", ns, name, err)
	}
	return updated, nil
}

// createRetrying retries a create that the admission of a namespace created an
// instant ago may refuse (NamespaceLifecycle reads namespaces from a cache).
func createRetrying(ctx context.Context, create func() (*corev1.Pod, error)) (*corev1.Pod, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pod, err := create()
		if err == nil || !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			return pod, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Controller is an owner reference marked as the controller, with a UID made from
// kind and name.
func Controller(apiVersion, kind, name string) *metav1.OwnerReference {
	yes := true
	return &metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-" + kind + "-" + name), Controller: &yes}
}

// spawn starts one of the binaries, its output appended to NAME.log in cp.dir.
// Cancelling it sends SIGTERM, then SIGKILL after stopGrace.
func (cp *ControlPlane) spawn(name string, args ...string) (*process, error) {
	log, err := os.OpenFile(filepath.Join(cp.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	defer log.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(cp.bin, name), args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, cancel: cancel, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop ends the process (SIGTERM, then SIGKILL) and waits for it.
func (p *process) stop() {
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
}

// exited reports the process's exit, if it has exited.
func (p *process) exited() error {
	select {
	case <-p.done:
		if p.err == nil {
			return fmt.Errorf("%s exited", p.name)
		}
		return fmt.Errorf("%s exited: %w", p.name, p.err)
	default:
		return nil
	}
}

func (cp *ControlPlane) waitReady(timeout time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Timeout: 2 * time.Second, Transport: tr}
	deadline := time.Now().Add(timeout)
	last := errors.New("no answer yet")
	for time.Now().Before(deadline) {
		for _, p := range []*process{cp.etcd, cp.apiserver} {
			if err := p.exited(); err != nil {
				return err
			}
		}
		req, err := http.NewRequest(http.MethodGet, cp.URL()+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("readyz request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := readSome(resp)
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("readyz: %s: %s", resp.Status, body)
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %w", timeout, last)
}

func readSome(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err := b.ReadFrom(io.LimitReader(resp.Body, 4096))
	return strings.TrimSpace(b.String()), err
}

// writeCredentials writes the serving certificate (self-signed, for 127.0.0.1 and
// localhost), the service-account RSA key pair and the static token file.
func (cp *ControlPlane) writeCredentials() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("serving key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return fmt.Errorf("serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kubetest kube-apiserver"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	cp.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("serving key: %w", err)
	}
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	files := map[string][]byte{
		"serving.crt": cp.caPEM,
		"serving.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		"sa.key":      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sa)}),
		"sa.pub":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		// token,user,uid,"group1,group2"
		"tokens.csv": []byte(adminToken + ",kubetest-admin,kubetest-admin,system:masters\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(cp.dir, name), data, 0o600); err != nil {
			return fmt.Errorf("credentials: %w", err)
		}
	}
	return nil
}

// logTails is the end of both logs, for a failure message.
func (cp *ControlPlane) logTails() string {
	var b strings.Builder
	for _, name := range []string{"etcd", "kube-apiserver"} {
		fmt.Fprintf(&b, "--- %s.log (end) ---\n%s\n", name, tail(filepath.Join(cp.dir, name+".log"), 4000))
	}
	return b.String()
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(bytes.TrimSpace(data))
}

// freePorts finds n distinct free loopback TCP ports, holding them all open at once
// so that none is handed out twice.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// repoRoot is the nearest folder at or above the working directory with a go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}
