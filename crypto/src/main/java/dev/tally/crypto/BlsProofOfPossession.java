package dev.tally.crypto;

import supranational.blst.P1_Affine;

/** Proof that the holder of a public key knows its secret key; guards aggregation against rogue keys. */
public final class BlsProofOfPossession extends FixedBytes {
    public static final String TEXT_PREFIX = "validator:pop:bls12_381:";

    private final P1_Affine point;

    BlsProofOfPossession(byte[] compressed) {
        super(compressed, Bls.SIGNATURE_LENGTH, "BLS proof of possession");
        this.point = BlsSignature.decodeG1(compressed, "BLS proof of possession");
    }

    public static BlsProofOfPossession fromBytes(byte[] compressed) {
        return new BlsProofOfPossession(compressed);
    }

    public static BlsProofOfPossession fromText(String text) {
        return fromBytes(TextFormat.decode(TEXT_PREFIX, text));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, raw());
    }

    public boolean verify(BlsPublicKey key) {
        return BlsSignature.verify(point, key.bytes(), key, Bls.DST_POP);
    }
}
