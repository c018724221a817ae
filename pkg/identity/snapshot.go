package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// LoadSnapshot reads the output of
//
//	kubectl get pods,services,endpointslices,replicasets,jobs,nodes -A -o json
//
// (a List, a single object, or several JSON documents one after another) into a
// Cluster for offline analysis. Objects of other kinds are skipped. A pod holds its
// address from its creation time on; a capture older than the snapshot's pods
// therefore leaves their addresses unnamed rather than naming the wrong pod.
func LoadSnapshot(path string) (*Cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read k8s snapshot: %w", err)
	}
	c := NewCluster("")
	if err := c.addSnapshot(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// snapshotObject is a List or one object: only kind and items are read here.
type snapshotObject struct {
	Kind  string            `json:"kind"`
	Items []json.RawMessage `json:"items"`
}

func (c *Cluster) addSnapshot(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("document %d at byte %d: %w", n+1, dec.InputOffset(), err)
		}
		n++
		if err := c.addObject(raw); err != nil {
			return fmt.Errorf("document %d: %w", n, err)
		}
	}
	if n == 0 {
		return errors.New("no JSON document")
	}
	return nil
}

func (c *Cluster) addObject(raw json.RawMessage) error {
	var o snapshotObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return err
	}
	// "List" from kubectl, "PodList" and the like from the API.
	if strings.HasSuffix(o.Kind, "List") || (len(o.Items) > 0 && o.Kind == "") {
		for i, it := range o.Items {
			if err := c.addObject(it); err != nil {
				return fmt.Errorf("items[%d]: %w", i, err)
			}
		}
		return nil
	}
	decode := func(v any) error {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%s: %w", o.Kind, err)
		}
		return nil
	}
	switch o.Kind {
	case "Pod":
		var p corev1.Pod
		if err := decode(&p); err != nil {
			return err
		}
		c.SetPod(PodInfoOf(&p))
	case "Service":
		var s corev1.Service
		if err := decode(&s); err != nil {
			return err
		}
		c.SetService(ServiceInfoOf(&s))
	case "EndpointSlice":
		var s discoveryv1.EndpointSlice
		if err := decode(&s); err != nil {
			return err
		}
		c.SetSlice(SliceInfoOf(&s))
	case "Node":
		var n corev1.Node
		if err := decode(&n); err != nil {
			return err
		}
		c.SetNode(n.Name, NodeAddrsOf(&n))
	case "ReplicaSet":
		var rs appsv1.ReplicaSet
		if err := decode(&rs); err != nil {
			return err
		}
		c.SetOwner(rs.Namespace, KindReplicaSet, rs.Name, ControllerOf(rs.OwnerReferences))
	case "Job":
		var j batchv1.Job
		if err := decode(&j); err != nil {
			return err
		}
		c.SetOwner(j.Namespace, KindJob, j.Name, ControllerOf(j.OwnerReferences))
	}
	return nil
}
