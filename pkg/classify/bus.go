package classify

// Recognisers of message-bus protocols.

// Kafka (https://kafka.apache.org/protocol, "Headers").

const (
	kafkaMaxAPIKey     = 90
	kafkaMaxAPIVersion = 20
	kafkaMaxRequest    = 1 << 20 // a first request is small
)

func detectKafka(client, server []byte) result {
	c := kafkaClientSide(client)
	s := sideEmpty
	if len(server) > 0 {
		s = kafkaServerSide(server, client)
	}
	return combine(c, s)
}

// kafkaClientSide accepts a request header v1/v2: int32 size, int16
// api_key, int16 api_version, int32 correlation_id (non-negative) and a
// nullable string client_id. A printable, non-empty client_id is
// conclusive; a null or empty one only consistent.
func kafkaClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	// Check field by field what has arrived.
	if len(b) >= 2 && (b[0] != 0 || int(b[1]) > kafkaMaxRequest>>16) {
		return sideNo
	}
	if len(b) >= 1 && b[0] != 0 {
		return sideNo
	}
	if len(b) >= 4 && (be32(b) < 10 || be32(b) > kafkaMaxRequest) {
		return sideNo
	}
	if len(b) >= 5 && b[4] != 0 || len(b) >= 6 && b[5] > kafkaMaxAPIKey {
		return sideNo
	}
	if len(b) >= 7 && b[6] != 0 || len(b) >= 8 && b[7] > kafkaMaxAPIVersion {
		return sideNo
	}
	if len(b) >= 9 && b[8]&0x80 != 0 {
		return sideNo
	}
	if len(b) < 14 {
		return sidePrefix
	}
	size := int(be32(b))
	l := be16(b[12:])
	if l == 0xffff || l == 0 {
		return sideWeak
	}
	if l > 255 || 10+l > size {
		return sideNo
	}
	for i := 14; i < 14+l; i++ {
		if i >= len(b) {
			return sidePrefix
		}
		if !isPrintable(b[i]) {
			return sideNo
		}
	}
	return sideStrong
}

// kafkaServerSide accepts a response header: int32 size and the
// correlation_id of the client's request.
func kafkaServerSide(b, client []byte) side {
	if len(b) < 8 {
		if b[0] != 0 {
			return sideNo
		}
		return sidePrefix
	}
	if n := be32(b); n < 4 || n > 1<<24 {
		return sideNo
	}
	if len(client) >= 12 {
		if be32(b[4:]) != be32(client[8:]) {
			return sideNo
		}
	}
	return sideWeak
}
