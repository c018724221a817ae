//go:build ignore

// capture.c — tlsaudit's in-kernel prefilter, attached at TC ingress and egress.
//
// Per packet it does only what must happen in the kernel: find the flow in an LRU map;
// when userspace has already decided the flow, count the packet and stop (the fast
// path: one lookup and two atomic adds); otherwise copy the packet's first payload
// bytes, up to a per-direction budget, to a ring buffer for the classifier in
// userspace, together with the TCP sequence number so that userspace can reassemble.
// Every loss (ring buffer full, map full) is counted in the stats map.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char __license[] SEC("license") = "Dual BSD/GPL";

#define TC_CONTINUE -1 /* TC_ACT_UNSPEC for clsact, TCX_NEXT for TCX: let the packet go on */

#define ETH_HLEN_ 14
#define VLAN_HLEN 4
#define MAX_VLAN_TAGS 2
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8
#define IPV4_HLEN_MIN 20
#define IPV6_HLEN 40
#define TCP_HLEN_MIN 20
#define UDP_HLEN 8
#define IP_FRAG_MASK 0x3fff /* more-fragments flag and fragment offset */

#define SAMPLE_MAX 4096 /* most payload bytes one event carries; a power of two */

/* TCP flag bits as in flow.Packet.Flags */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

/* Indexes of the stats array; mirrored in Go (statNames). */
enum stat {
	STAT_PACKETS,        /* packets seen */
	STAT_BYTES,          /* bytes seen */
	STAT_FAST_PATH,      /* packets of decided flows: counted only */
	STAT_EVENTS,         /* events written to the ring buffer */
	STAT_RINGBUF_FULL,   /* events lost: ring buffer full */
	STAT_MAP_FULL,       /* flows not tracked: map insert failed */
	STAT_NOT_IP,         /* not IPv4/IPv6 */
	STAT_NOT_TCP_UDP,    /* IP, but neither TCP nor UDP */
	STAT_FRAGMENTS,      /* IPv4 fragments, skipped */
	STAT_BUDGET_DONE,    /* payload packets past the per-direction budget */
	STAT_LOAD_ERRORS,    /* bpf_skb_load_bytes failed */
	STAT_MAX,
};

struct flow_key {
	__u8 a[16];
	__u8 b[16];
	__u16 port_a;
	__u16 port_b;
	__u8 proto;
	__u8 pad[3];
};

struct flow_val {
	__u64 packets;
	__u64 bytes;
	__u32 copied[2]; /* payload bytes sent to userspace, from a / from b */
	__u32 decided;   /* set by userspace once the verdict is reached */
	__u32 pad;
};

struct event {
	__u64 ts;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 flags;
	__u8 ipv6;
	__u8 pad;
	__u32 seq;
	__u32 ifindex;
	__u32 payload_len; /* on the wire */
	__u32 cap_len;     /* bytes in data */
	__u32 wire_len;    /* IP packet length */
	__u8 data[SAMPLE_MAX];
};

/* Force the event type into BTF so bpf2go -type event can find it. */
const struct event *unused_event __attribute__((unused));

/* Set from userspace before load. */
volatile const __u32 budget_per_direction = 4096;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

static __always_inline void count(enum stat s, __u64 n)
{
	__u32 k = s;
	__u64 *v = bpf_map_lookup_elem(&stats, &k);
	if (v)
		*v += n;
}

/* addr_less orders (address, port) pairs so both directions share one key. */
static __always_inline int addr_less(const __u8 *x, __u16 px, const __u8 *y, __u16 py)
{
	for (int i = 0; i < 16; i++) {
		if (x[i] != y[i])
			return x[i] < y[i];
	}
	return px < py;
}

static __always_inline int handle(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct event *ev = bpf_map_lookup_elem(&scratch, &zero);
	if (!ev)
		return TC_CONTINUE;

	count(STAT_PACKETS, 1);
	count(STAT_BYTES, skb->len);

	__u32 off = ETH_HLEN_;
	__u16 proto;
	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) < 0) {
		count(STAT_LOAD_ERRORS, 1);
		return TC_CONTINUE;
	}
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q_) && proto != bpf_htons(ETH_P_8021AD_))
			break;
		if (bpf_skb_load_bytes(skb, off + 2, &proto, sizeof(proto)) < 0) {
			count(STAT_LOAD_ERRORS, 1);
			return TC_CONTINUE;
		}
		off += VLAN_HLEN;
	}

	__u32 ip_len, l4_off;
	__u8 l4;
	__builtin_memset(ev->saddr, 0, 32);
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0) {
			count(STAT_LOAD_ERRORS, 1);
			return TC_CONTINUE;
		}
		if (ip.frag_off & bpf_htons(IP_FRAG_MASK)) {
			count(STAT_FRAGMENTS, 1);
			return TC_CONTINUE;
		}
		ev->ipv6 = 0;
		ev->saddr[10] = ev->saddr[11] = 0xff; /* IPv4-mapped */
		ev->daddr[10] = ev->daddr[11] = 0xff;
		__builtin_memcpy(&ev->saddr[12], &ip.saddr, 4);
		__builtin_memcpy(&ev->daddr[12], &ip.daddr, 4);
		l4 = ip.protocol;
		ip_len = bpf_ntohs(ip.tot_len);
		l4_off = off + ip.ihl * 4;
		if (ip.ihl * 4 < IPV4_HLEN_MIN)
			return TC_CONTINUE;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) < 0) {
			count(STAT_LOAD_ERRORS, 1);
			return TC_CONTINUE;
		}
		ev->ipv6 = 1;
		__builtin_memcpy(ev->saddr, &ip6.saddr, 16);
		__builtin_memcpy(ev->daddr, &ip6.daddr, 16);
		l4 = ip6.nexthdr; /* extension headers are not followed: counted as not TCP/UDP */
		ip_len = bpf_ntohs(ip6.payload_len) + IPV6_HLEN;
		l4_off = off + IPV6_HLEN;
	} else {
		count(STAT_NOT_IP, 1);
		return TC_CONTINUE;
	}

	__u32 payload_off;
	__u8 flags = 0;
	__u32 seq = 0;
	if (l4 == IPPROTO_TCP) {
		struct tcphdr th;
		if (bpf_skb_load_bytes(skb, l4_off, &th, sizeof(th)) < 0) {
			count(STAT_LOAD_ERRORS, 1);
			return TC_CONTINUE;
		}
		ev->sport = bpf_ntohs(th.source);
		ev->dport = bpf_ntohs(th.dest);
		seq = bpf_ntohl(th.seq);
		flags = (th.fin ? F_FIN : 0) | (th.syn ? F_SYN : 0) | (th.rst ? F_RST : 0) | (th.ack ? F_ACK : 0);
		payload_off = l4_off + th.doff * 4;
	} else if (l4 == IPPROTO_UDP) {
		struct udphdr uh;
		if (bpf_skb_load_bytes(skb, l4_off, &uh, sizeof(uh)) < 0) {
			count(STAT_LOAD_ERRORS, 1);
			return TC_CONTINUE;
		}
		ev->sport = bpf_ntohs(uh.source);
		ev->dport = bpf_ntohs(uh.dest);
		payload_off = l4_off + UDP_HLEN;
	} else {
		count(STAT_NOT_TCP_UDP, 1);
		return TC_CONTINUE;
	}

	/* The skb's length, not the IP header's, bounds the payload: a GSO packet's IP
	 * length may describe one segment while the skb holds several. Ethernet padding
	 * is cut by the IP length when the IP length is the larger view. */
	__u32 payload_len = 0;
	if (skb->len > payload_off)
		payload_len = skb->len - payload_off;
	if (ip_len > 0 && off + ip_len >= payload_off && off + ip_len < skb->len && ip_len + off - payload_off < payload_len)
		payload_len = off + ip_len - payload_off;

	struct flow_key key = {};
	int from_a = addr_less(ev->saddr, ev->sport, ev->daddr, ev->dport);
	if (from_a) {
		__builtin_memcpy(key.a, ev->saddr, 16);
		__builtin_memcpy(key.b, ev->daddr, 16);
		key.port_a = ev->sport;
		key.port_b = ev->dport;
	} else {
		__builtin_memcpy(key.a, ev->daddr, 16);
		__builtin_memcpy(key.b, ev->saddr, 16);
		key.port_a = ev->dport;
		key.port_b = ev->sport;
	}
	key.proto = l4;

	struct flow_val *fv = bpf_map_lookup_elem(&flows, &key);
	if (fv && (flags & (F_SYN | F_ACK)) == F_SYN) {
		/* A new connection on this 5-tuple: forget the old one's decision. */
		fv->decided = 0;
		fv->copied[0] = fv->copied[1] = 0;
	}
	if (fv && fv->decided) {
		/* Fast path: the verdict is known; count and go. */
		__sync_fetch_and_add(&fv->packets, 1);
		__sync_fetch_and_add(&fv->bytes, skb->len);
		count(STAT_FAST_PATH, 1);
		return TC_CONTINUE;
	}
	if (!fv) {
		struct flow_val init = {};
		if (bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST) < 0 && bpf_map_lookup_elem(&flows, &key) == NULL) {
			count(STAT_MAP_FULL, 1);
			return TC_CONTINUE;
		}
		fv = bpf_map_lookup_elem(&flows, &key);
		if (!fv) {
			count(STAT_MAP_FULL, 1);
			return TC_CONTINUE;
		}
	}
	__sync_fetch_and_add(&fv->packets, 1);
	__sync_fetch_and_add(&fv->bytes, skb->len);

	/* Only packets that can teach the classifier something go to userspace: payload
	 * within the budget, and the SYN/FIN/RST that frame a TCP connection. */
	__u32 dir = from_a ? 0 : 1;
	__u32 copied = fv->copied[dir & 1];
	__u32 cap = 0;
	if (payload_len > 0) {
		if (copied >= budget_per_direction) {
			count(STAT_BUDGET_DONE, 1);
			if (!(flags & (F_SYN | F_FIN | F_RST)))
				return TC_CONTINUE;
		} else {
			cap = budget_per_direction - copied;
			if (cap > payload_len)
				cap = payload_len;
		}
	} else if (!(flags & (F_SYN | F_FIN | F_RST))) {
		return TC_CONTINUE;
	}
	if (cap > SAMPLE_MAX)
		cap = SAMPLE_MAX;
	if (cap > 0) {
		/* Give the verifier a bound it can track through the register: 1..SAMPLE_MAX. */
		__u32 n = cap - 1;
		asm volatile("%0 &= 0xfff" : "+r"(n));
		cap = n + 1;
		if (bpf_skb_load_bytes(skb, payload_off, ev->data, cap) < 0) {
			count(STAT_LOAD_ERRORS, 1);
			return TC_CONTINUE;
		}
		__sync_fetch_and_add(&fv->copied[dir & 1], cap);
	}
	ev->ts = bpf_ktime_get_ns();
	ev->proto = l4;
	ev->flags = flags;
	ev->seq = seq;
	ev->ifindex = skb->ifindex;
	ev->payload_len = payload_len;
	ev->cap_len = cap;
	ev->wire_len = skb->len - off;
	__u64 size = __builtin_offsetof(struct event, data) + cap;
	if (size > sizeof(*ev))
		return TC_CONTINUE;
	if (bpf_ringbuf_output(&events, ev, size, 0) < 0) {
		count(STAT_RINGBUF_FULL, 1);
		return TC_CONTINUE;
	}
	count(STAT_EVENTS, 1);
	return TC_CONTINUE;
}

SEC("tc")
int tlsaudit_ingress(struct __sk_buff *skb) { return handle(skb); }

SEC("tc")
int tlsaudit_egress(struct __sk_buff *skb) { return handle(skb); }
