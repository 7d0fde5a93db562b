package dev.tally.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.tally.crypto.Keccak256;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PayloadTest {
    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void theHashIsKeccakOfTheBytesHoweverTheyAreHeld() {
        byte[] a = bytes(300_000, 1);
        byte[] b = bytes(70_001, 2);
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        PayloadHash expected = new PayloadHash(Keccak256.of(all));

        assertThat(Payload.of(all).hash()).isEqualTo(expected);
        Payload rope = new Payload(ByteString.copyFrom(a).concat(ByteString.copyFrom(b)));
        assertThat(rope.hash()).isEqualTo(expected);
        assertThat(new Payload(ByteString.copyFrom(all).substring(1, all.length - 1)).hash())
                .isEqualTo(new PayloadHash(Keccak256.of(all, 1, all.length - 2)));
        assertThat(new Payload(ByteString.EMPTY).hash()).isEqualTo(new PayloadHash(Keccak256.of(new byte[0])));
    }

    @Test
    void aPayloadHashesItsBytesOnce() {
        Payload p = Payload.of(bytes(1_000_000, 3));
        assertThat(p.hash()).isSameAs(p.hash());
    }

    @Test
    void payloadsAreEqualByTheirBytes() {
        byte[] b = bytes(1000, 4);
        Payload p = Payload.of(b);
        Payload q = new Payload(ByteString.copyFrom(b, 0, 500).concat(ByteString.copyFrom(b, 500, 500)));
        assertThat(q).isEqualTo(p).hasSameHashCodeAs(p);
        assertThat(Payload.of(bytes(1000, 5))).isNotEqualTo(p);
    }
}
