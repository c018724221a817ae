package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
		var p KubePod
		if err := decode(&p); err != nil {
			return err
		}
		c.SetPod(PodInfoOf(&p))
	case "Service":
		var s KubeService
		if err := decode(&s); err != nil {
			return err
		}
		c.SetService(ServiceInfoOf(&s))
	case "EndpointSlice":
		var s KubeEndpointSlice
		if err := decode(&s); err != nil {
			return err
		}
		c.SetSlice(SliceInfoOf(&s))
	case "Node":
		var n KubeNode
		if err := decode(&n); err != nil {
			return err
		}
		c.SetNode(n.Metadata.Name, NodeAddrsOf(n.Status.Addresses))
	case KindReplicaSet, KindJob:
		var owned KubeOwned
		if err := decode(&owned); err != nil {
			return err
		}
		m := &owned.Metadata
		c.SetOwner(m.Namespace, o.Kind, m.Name, ControllerOf(m.OwnerReferences))
	}
	return nil
}
