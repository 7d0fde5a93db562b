package dev.tally.testbed.k8s;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.InvalidEncodingException;
import dev.tally.crypto.NodeSecretKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Copies a pod's secret key files out of its Secret volume into files only their owner may read, as the node
 * requires (the pods' {@code install-keys} init container; see {@link Pods}).
 */
public final class KeyInstaller {
    private KeyInstaller() {}

    /**
     * Copies every {@code *.key} file of {@code from} (following the symbolic links of a Secret volume; Kubernetes'
     * own {@code ..} entries are skipped) into {@code to} with mode 0600, replacing an earlier copy. Each must hold a
     * validator or node secret key in text form. Returns the names copied.
     *
     * @throws IllegalArgumentException naming the file that is not a secret key, or {@code from} when it holds none
     */
    public static List<String> install(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            throw new IllegalArgumentException("no such directory: " + from);
        }
        List<Path> keys;
        try (Stream<Path> entries = Files.list(from)) {
            keys = entries.filter(p -> !p.getFileName().toString().startsWith(".."))
                    .filter(p -> p.getFileName().toString().endsWith(".key"))
                    .filter(Files::isRegularFile)
                    .sorted()
                    .toList();
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no key files (*.key) in " + from);
        }
        Files.createDirectories(to);
        List<String> names = new ArrayList<>();
        for (Path key : keys) {
            String text = Files.readString(key).strip();
            check(key, text);
            Path copy = to.resolve(key.getFileName().toString());
            Files.deleteIfExists(copy);
            Files.createFile(copy, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(copy, text + "\n");
            names.add(key.getFileName().toString());
        }
        return names;
    }

    /** Refuses a file that is neither kind of secret key, without echoing what it holds. */
    private static void check(Path file, String text) {
        try {
            if (text.startsWith("validator:")) {
                BlsSecretKey.fromText(text);
            } else {
                NodeSecretKey.fromText(text);
            }
        } catch (InvalidEncodingException e) {
            throw new IllegalArgumentException(
                    file + " is not a validator or node secret key (validator:secret:bls12_381:<hex> or "
                            + "node:secret:ed25519:<hex>)");
        }
    }
}
