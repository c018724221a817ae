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
#define IPV6_EXT_MAX 4        /* IPv6 extension headers followed before TCP/UDP */
#define IPV6_EXT_MIN 8        /* every extension header is at least 8 bytes */
#define IP6_FRAG_MASK 0xfff9  /* fragment offset and M flag of a Fragment header */
/* IPv6 next-header values (RFC 8200 section 4, RFC 4302) */
#define NEXTHDR_HOP_ 0
#define NEXTHDR_ROUTING_ 43
#define NEXTHDR_FRAGMENT_ 44
#define NEXTHDR_AUTH_ 51
#define NEXTHDR_DEST_ 60

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
	STAT_NOT_TCP_UDP,    /* IP, but neither TCP nor UDP (also: ESP, or more IPv6 extension headers than IPV6_EXT_MAX) */
	STAT_FRAGMENTS,      /* IPv4 and IPv6 fragments (an atomic IPv6 fragment is not one), skipped */
	STAT_BUDGET_DONE,    /* payload packets past the per-direction budget (also counted as quiet or an event) */
	STAT_LOAD_ERRORS,    /* bpf_skb_load_bytes failed */
	STAT_QUIET,          /* undecided flow, nothing to send: bare ACK, or budget spent */
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
	__u32 ack;
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
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

/* flow_cache remembers, per CPU, the last decided flow seen, with the packets and
 * bytes counted for it since they were last added to its flows entry. Consecutive
 * packets of one flow on one CPU (a bulk transfer) then cost a 40-byte compare instead
 * of a hash lookup; the counts reach the flows entry every CACHE_FLUSH packets, when
 * another flow takes the slot, or when a packet of the flow leaves the fast path.
 * Userspace adds the pending counts when it reads a flow's counters. */
struct flow_cache {
	struct flow_key key;
	__u64 packets;
	__u64 bytes;
	__u64 epoch; /* the epoch when the slot was filled */
	__u32 valid;
	__u32 pad;
};

/* epoch counts the events that may make a cached "decided" wrong on some CPU: a new
 * connection (SYN) on any 5-tuple. A slot filled in an older epoch is not trusted. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} epoch SEC(".maps");

#define CACHE_FLUSH 64

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_cache);
} cache SEC(".maps");

static __always_inline int key_equal(const struct flow_key *x, const struct flow_key *y)
{
	const __u64 *a = (const __u64 *)x, *b = (const __u64 *)y;
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4];
}

/* cache_flush adds the cached flow's pending counts to its flows entry. */
static __always_inline void cache_flush(struct flow_cache *fc)
{
	if (!fc->valid || !fc->packets)
		return;
	struct flow_val *fv = bpf_map_lookup_elem(&flows, &fc->key);
	if (fv) {
		__sync_fetch_and_add(&fv->packets, fc->packets);
		__sync_fetch_and_add(&fv->bytes, fc->bytes);
	}
	fc->packets = 0;
	fc->bytes = 0;
}

/* stat_values is the one per-CPU slot of the stats array: all counters, so that a
 * packet costs one map lookup for all of its counting. */
struct stat_values {
	__u64 v[STAT_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stat_values);
} stats SEC(".maps");

/* pkt is what the parser learns from the headers. */
struct pkt {
	__u32 payload_off;
	__u32 payload_len;
	__u32 ip_off;
	__u32 seq;
	__u32 ack;
	__u8 flags;
	__u8 ipv6;
	__u8 from_a;
};

/* be_less compares two big-endian words as unsigned numbers, like a byte-wise
 * comparison of their bytes would. */
#define be_less32(x, y) (bpf_ntohl(x) < bpf_ntohl(y))
#define be_less64(x, y) (__builtin_bswap64(x) < __builtin_bswap64(y))

/* PARSE_SHORT is parse's answer when a header lies past the skb's linear part. */
#define PARSE_SHORT -1
/* L4_OFF_MAX is the deepest a transport header (or an IPv6 extension header) may start;
 * PULL_MAX, what bpf_skb_pull_data makes linear when a header is short, covers the
 * largest fixed header read there (TCP's 20 bytes) on top. */
#define L4_OFF_MAX 128
#define PULL_MAX (L4_OFF_MAX + 20)

/* parse reads the headers with direct packet access and fills the flow key in
 * canonical order. It returns 0 for a TCP/UDP packet to look at, PARSE_SHORT when a
 * header is not in the skb's linear part, else the stat to count.
 *
 * Each header is checked against the linear part as it is read, not the largest
 * header stack up front: on veth the linear part is exactly the headers (66 bytes for
 * IPv4 and TCP with timestamps), so a check for 74 bytes pulled payload into the head
 * of every data segment, which cost more than the rest of the program. A header that
 * starts past L4_OFF_MAX (deep IPv6 extension headers) is not read: a load error. */
static __always_inline int parse(struct __sk_buff *skb, struct flow_key *key, struct pkt *pk)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 off = ETH_HLEN_;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return PARSE_SHORT;
	__u16 proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q_) && proto != bpf_htons(ETH_P_8021AD_))
			break;
		__u16 *inner = data + off + 2;
		if ((void *)(inner + 1) > end)
			return PARSE_SHORT;
		proto = *inner;
		off += VLAN_HLEN;
	}
	pk->ip_off = off;
	__u32 ip_len, l4_off;
	__u8 l4;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;
		if ((void *)(ip + 1) > end)
			return PARSE_SHORT;
		if (ip->frag_off & bpf_htons(IP_FRAG_MASK))
			return STAT_FRAGMENTS;
		if (ip->ihl < 5)
			return STAT_LOAD_ERRORS;
		pk->ipv6 = 0;
		pk->from_a = be_less32(ip->saddr, ip->daddr) ? 1 : (ip->saddr == ip->daddr ? 2 : 0);
		__u32 lo = pk->from_a ? ip->saddr : ip->daddr;
		__u32 hi = pk->from_a ? ip->daddr : ip->saddr;
		key->a[10] = key->a[11] = key->b[10] = key->b[11] = 0xff; /* IPv4-mapped */
		__builtin_memcpy(&key->a[12], &lo, 4);
		__builtin_memcpy(&key->b[12], &hi, 4);
		l4 = ip->protocol;
		ip_len = bpf_ntohs(ip->tot_len);
		l4_off = off + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		if ((void *)(ip6 + 1) > end)
			return PARSE_SHORT;
		pk->ipv6 = 1;
		__u64 s0, s1, d0, d1;
		__builtin_memcpy(&s0, &ip6->saddr, 8);
		__builtin_memcpy(&s1, (void *)&ip6->saddr + 8, 8);
		__builtin_memcpy(&d0, &ip6->daddr, 8);
		__builtin_memcpy(&d1, (void *)&ip6->daddr + 8, 8);
		if (s0 != d0)
			pk->from_a = be_less64(s0, d0);
		else if (s1 != d1)
			pk->from_a = be_less64(s1, d1);
		else
			pk->from_a = 2;
		if (pk->from_a) {
			__builtin_memcpy(key->a, &ip6->saddr, 16);
			__builtin_memcpy(key->b, &ip6->daddr, 16);
		} else {
			__builtin_memcpy(key->a, &ip6->daddr, 16);
			__builtin_memcpy(key->b, &ip6->saddr, 16);
		}
		l4 = ip6->nexthdr;
		ip_len = bpf_ntohs(ip6->payload_len) + IPV6_HLEN;
		l4_off = off + IPV6_HLEN;
		/* Follow up to IPV6_EXT_MAX extension headers to the transport header. A
		 * header left over after that, ESP or No Next Header is not TCP/UDP below. */
#pragma unroll
		for (int i = 0; i < IPV6_EXT_MAX; i++) {
			if (l4 != NEXTHDR_HOP_ && l4 != NEXTHDR_ROUTING_ && l4 != NEXTHDR_DEST_ &&
			    l4 != NEXTHDR_FRAGMENT_ && l4 != NEXTHDR_AUTH_)
				break;
			if (l4_off > L4_OFF_MAX)
				return STAT_LOAD_ERRORS;
			__u8 *ext = data + l4_off;
			if ((void *)(ext + IPV6_EXT_MIN) > end)
				return PARSE_SHORT;
			if (l4 == NEXTHDR_FRAGMENT_) {
				/* A fragment, as for IPv4: an offset or more fragments to come. An
				 * atomic fragment (RFC 6946) is the whole packet: go on past it. */
				if (*(__u16 *)(ext + 2) & bpf_htons(IP6_FRAG_MASK))
					return STAT_FRAGMENTS;
				l4_off += IPV6_EXT_MIN;
			} else if (l4 == NEXTHDR_AUTH_) {
				l4_off += ((__u32)ext[1] + 2) * 4; /* in 4-byte words, minus 2 */
			} else {
				l4_off += ((__u32)ext[1] + 1) * 8; /* in 8-byte units, minus 1 */
			}
			l4 = ext[0];
		}
	} else {
		return STAT_NOT_IP;
	}

	__u16 sport, dport;
	if (l4 == IPPROTO_TCP) {
		if (l4_off > L4_OFF_MAX)
			return STAT_LOAD_ERRORS;
		struct tcphdr *th = data + l4_off;
		if ((void *)(th + 1) > end)
			return PARSE_SHORT;
		sport = bpf_ntohs(th->source);
		dport = bpf_ntohs(th->dest);
		pk->seq = bpf_ntohl(th->seq);
		pk->ack = bpf_ntohl(th->ack_seq);
		pk->flags = (th->fin ? F_FIN : 0) | (th->syn ? F_SYN : 0) | (th->rst ? F_RST : 0) | (th->ack ? F_ACK : 0);
		pk->payload_off = l4_off + th->doff * 4;
	} else if (l4 == IPPROTO_UDP) {
		if (l4_off > L4_OFF_MAX)
			return STAT_LOAD_ERRORS;
		struct udphdr *uh = data + l4_off;
		if ((void *)(uh + 1) > end)
			return PARSE_SHORT;
		sport = bpf_ntohs(uh->source);
		dport = bpf_ntohs(uh->dest);
		pk->seq = 0;
		pk->ack = 0;
		pk->flags = 0;
		pk->payload_off = l4_off + UDP_HLEN;
	} else {
		return STAT_NOT_TCP_UDP;
	}
	if (pk->from_a == 2) /* same address both ways: the port decides */
		pk->from_a = sport < dport;
	key->port_a = pk->from_a ? sport : dport;
	key->port_b = pk->from_a ? dport : sport;
	key->proto = l4;

	/* The skb's length, not the IP header's, bounds the payload: a GSO packet's IP
	 * length may describe one segment while the skb holds several. Ethernet padding
	 * is cut by the IP length when the IP length is the smaller view. */
	pk->payload_len = 0;
	if (skb->len > pk->payload_off)
		pk->payload_len = skb->len - pk->payload_off;
	if (ip_len > 0 && off + ip_len >= pk->payload_off && off + ip_len < skb->len)
		pk->payload_len = off + ip_len - pk->payload_off;
	return 0;
}

static __always_inline int handle(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct stat_values *st = bpf_map_lookup_elem(&stats, &zero);
	if (!st)
		return TC_CONTINUE;
	st->v[STAT_PACKETS]++;
	st->v[STAT_BYTES] += skb->len;

	struct flow_key key = {};
	struct pkt pk = {};
	int why = parse(skb, &key, &pk);
	if (why == PARSE_SHORT) {
		/* A header is not in the linear part (or the packet is short): pull the
		 * first bytes into it once, and parse again. */
		__u32 want = skb->len < PULL_MAX ? skb->len : PULL_MAX;
		why = STAT_LOAD_ERRORS;
		if (bpf_skb_pull_data(skb, want) == 0) {
			__builtin_memset(&key, 0, sizeof(key));
			__builtin_memset(&pk, 0, sizeof(pk));
			why = parse(skb, &key, &pk);
			if (why == PARSE_SHORT)
				why = STAT_LOAD_ERRORS;
		}
	}
	if (why) {
		if (why > 0 && why < STAT_MAX)
			st->v[why]++;
		return TC_CONTINUE;
	}

	struct flow_cache *fc = bpf_map_lookup_elem(&cache, &zero);
	if (!fc) {
		st->v[STAT_LOAD_ERRORS]++;
		return TC_CONTINUE;
	}
	__u64 *ep = bpf_map_lookup_elem(&epoch, &zero);
	if (!ep) {
		st->v[STAT_LOAD_ERRORS]++;
		return TC_CONTINUE;
	}
	if ((pk.flags & (F_SYN | F_ACK)) == F_SYN)
		__sync_fetch_and_add(ep, 1); /* a new connection: every CPU's slot is suspect */
	int cached = fc->valid && fc->epoch == *ep && key_equal(&fc->key, &key);
	if (cached && !(pk.flags & (F_SYN | F_FIN | F_RST))) {
		/* Fastest path: the same decided flow as this CPU's last packet. */
		fc->packets++;
		fc->bytes += skb->len;
		if (fc->packets >= CACHE_FLUSH)
			cache_flush(fc);
		st->v[STAT_FAST_PATH]++;
		return TC_CONTINUE;
	}
	if (cached) {
		/* SYN, FIN or RST of the cached flow: settle its counts, leave the slot. */
		cache_flush(fc);
		fc->valid = 0;
	}

	struct flow_val *fv = bpf_map_lookup_elem(&flows, &key);
	if (fv && (pk.flags & (F_SYN | F_ACK)) == F_SYN) {
		/* A new connection on this 5-tuple: forget the old one's decision. */
		fv->decided = 0;
		fv->copied[0] = fv->copied[1] = 0;
	}
	if (fv && fv->decided) {
		/* Fast path: the verdict is known; count, take the cache slot, and go. */
		__sync_fetch_and_add(&fv->packets, 1);
		__sync_fetch_and_add(&fv->bytes, skb->len);
		if (!(pk.flags & (F_SYN | F_FIN | F_RST))) {
			cache_flush(fc);
			fc->key = key;
			fc->epoch = *ep;
			fc->valid = 1;
		}
		st->v[STAT_FAST_PATH]++;
		return TC_CONTINUE;
	}
	if (!fv) {
		struct flow_val init = {};
		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		fv = bpf_map_lookup_elem(&flows, &key);
		if (!fv) {
			st->v[STAT_MAP_FULL]++;
			return TC_CONTINUE;
		}
	}
	__sync_fetch_and_add(&fv->packets, 1);
	__sync_fetch_and_add(&fv->bytes, skb->len);

	/* Only packets that can teach the classifier something go to userspace: payload
	 * within the budget, and the SYN/FIN/RST that frame a TCP connection. */
	__u32 dir = pk.from_a ? 0 : 1;
	__u32 copied = fv->copied[dir];
	__u32 cap = 0;
	if (pk.payload_len > 0) {
		if (copied >= budget_per_direction) {
			st->v[STAT_BUDGET_DONE]++;
			if (!(pk.flags & (F_SYN | F_FIN | F_RST))) {
				st->v[STAT_QUIET]++;
				return TC_CONTINUE;
			}
		} else {
			cap = budget_per_direction - copied;
			if (cap > pk.payload_len)
				cap = pk.payload_len;
		}
	} else if (!(pk.flags & (F_SYN | F_FIN | F_RST))) {
		st->v[STAT_QUIET]++;
		return TC_CONTINUE;
	}
	struct event *ev = bpf_map_lookup_elem(&scratch, &zero);
	if (!ev) {
		st->v[STAT_LOAD_ERRORS]++;
		return TC_CONTINUE;
	}
	if (cap > SAMPLE_MAX)
		cap = SAMPLE_MAX;
	if (cap > 0) {
		/* Give the verifier a bound it can track through the register: 1..SAMPLE_MAX. */
		__u32 n = cap - 1;
		asm volatile("%0 &= 0xfff" : "+r"(n));
		cap = n + 1;
		/* bpf_skb_load_bytes, not direct access: the payload is mostly in page
		 * fragments, beyond the linear part (EBPF-NOTES.md). */
		if (bpf_skb_load_bytes(skb, pk.payload_off, ev->data, cap) < 0) {
			st->v[STAT_LOAD_ERRORS]++;
			return TC_CONTINUE;
		}
		__sync_fetch_and_add(&fv->copied[dir], cap);
	}
	/* The event carries the packet's own direction, rebuilt from the canonical key. */
	if (pk.from_a) {
		__builtin_memcpy(ev->saddr, key.a, 16);
		__builtin_memcpy(ev->daddr, key.b, 16);
		ev->sport = key.port_a;
		ev->dport = key.port_b;
	} else {
		__builtin_memcpy(ev->saddr, key.b, 16);
		__builtin_memcpy(ev->daddr, key.a, 16);
		ev->sport = key.port_b;
		ev->dport = key.port_a;
	}
	ev->ts = bpf_ktime_get_ns();
	ev->proto = key.proto;
	ev->flags = pk.flags;
	ev->ipv6 = pk.ipv6;
	ev->seq = pk.seq;
	ev->ack = pk.ack;
	ev->ifindex = skb->ifindex;
	ev->payload_len = pk.payload_len;
	ev->cap_len = cap;
	ev->wire_len = skb->len - pk.ip_off;
	__u64 size = __builtin_offsetof(struct event, data) + cap;
	if (size > sizeof(*ev)) {
		st->v[STAT_LOAD_ERRORS]++;
		return TC_CONTINUE;
	}
	if (bpf_ringbuf_output(&events, ev, size, 0) < 0) {
		st->v[STAT_RINGBUF_FULL]++;
		return TC_CONTINUE;
	}
	st->v[STAT_EVENTS]++;
	return TC_CONTINUE;
}

SEC("tc")
int tlsaudit_ingress(struct __sk_buff *skb) { return handle(skb); }

SEC("tc")
int tlsaudit_egress(struct __sk_buff *skb) { return handle(skb); }
