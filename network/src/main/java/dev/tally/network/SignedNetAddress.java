package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.BlsSignature;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;

/**
 * A validator's announcement of the address it accepts consensus connections at, signed with its validator key
 * (the `Msg.net_address` variant of the validator `Signed` message). Between two announcements of one validator,
 * the one with the higher (version, timestamp) wins.
 */
public record SignedNetAddress(
        BlsPublicKey key, InetSocketAddress address, long version, Instant timestamp, BlsSignature signature) {
    public static SignedNetAddress sign(BlsSecretKey key, InetSocketAddress address, long version, Instant timestamp) {
        byte[] hash = NetCodec.netAddressHash(address, version, timestamp);
        return new SignedNetAddress(key.publicKey(), address, version, timestamp, key.sign(hash));
    }

    /**
     * Whether each announcement's signature is valid, checked together (at about half the cost of each alone; each
     * alone only if the batch fails), with whatever else {@code check} is checking at the moment.
     */
    static boolean[] verifySignatures(List<SignedNetAddress> announcements, SignatureCheck check)
            throws InterruptedException {
        return check.validEach(announcements.stream()
                .map(a -> new BlsSignature.Check(
                        a.signature, NetCodec.netAddressHash(a.address, a.version, a.timestamp), a.key))
                .toList());
    }

    /** True iff this announcement supersedes {@code other} (same key assumed). */
    public boolean isNewerThan(SignedNetAddress other) {
        if (version != other.version) {
            return Long.compareUnsigned(version, other.version) > 0;
        }
        return timestamp.isAfter(other.timestamp);
    }

    @Override
    public String toString() {
        return "NetAddress(" + key + " at " + address + ", version " + Long.toUnsignedString(version) + ")";
    }
}
