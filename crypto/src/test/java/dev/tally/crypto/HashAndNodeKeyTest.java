package dev.tally.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class HashAndNodeKeyTest {
    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void keccakIsTheOriginalKeccakNotSha3() {
        assertThat(Keccak256.of(new byte[0]).hex())
                .isEqualTo("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
        assertThat(Keccak256.of("abc".getBytes(StandardCharsets.US_ASCII)).hex())
                .isEqualTo("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    }

    /** The reference's payload-hash change detector. */
    @Test
    void referencePayloadHash() {
        byte[] payload = hex("57b79660558f18d56b5196053f64007030a1cb7eeadb5c32d816b9439f77edf5f6bd9d");
        assertThat(Keccak256.of(payload).hex())
                .isEqualTo("ba8ffff2526cae27a9e8e014749014b08b80e01905c8b769159d02d6579d9b83");
    }

    /** RFC 8032, section 7.1, test 1. */
    @Test
    void ed25519Rfc8032Vector() {
        NodeSecretKey sk =
                NodeSecretKey.fromBytes(hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        assertThat(sk.publicKey().hex()).isEqualTo("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        NodeSignature sig = sk.sign(new byte[0]);
        assertThat(sig.hex())
                .isEqualTo(
                        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
        assertThat(sk.publicKey().verify(new byte[0], sig)).isTrue();
        assertThat(sk.publicKey().verify(new byte[] {1}, sig)).isFalse();
    }

    @Test
    void ed25519RejectsSmallOrderKeyAndMalleatedSignature() {
        byte[] identity = new byte[32];
        identity[0] = 1; // the neutral element: small order
        assertThatThrownBy(() -> NodePublicKey.fromBytes(identity)).hasMessageContaining("prime order");
        NodeSecretKey sk = NodeSecretKey.generate();
        byte[] msg = "hello".getBytes(StandardCharsets.US_ASCII);
        byte[] sig = sk.sign(msg).bytes();
        // S + L is the classic malleation; strict verification must refuse it.
        byte[] l = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        int carry = 0;
        for (int i = 0; i < 32; i++) {
            int v = (sig[32 + i] & 0xff) + (l[i] & 0xff) + carry;
            sig[32 + i] = (byte) v;
            carry = v >> 8;
        }
        assertThat(sk.publicKey().verify(msg, new NodeSignature(sig))).isFalse();
    }

    @Test
    void nodeKeyTextForms() {
        NodeSecretKey sk = NodeSecretKey.generate();
        assertThat(NodeSecretKey.fromText(sk.toText())).isEqualTo(sk);
        assertThat(NodePublicKey.fromText(sk.publicKey().toText())).isEqualTo(sk.publicKey());
        assertThat(sk.toText()).startsWith("node:secret:ed25519:");
        assertThatThrownBy(() -> NodePublicKey.fromText("node:public:ed25519:zz"))
                .hasMessageContaining("bad hex");
    }
}
