package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tally deploy}, run in-process as bin/tally runs it. The manifests themselves: K8sManifestsTest. */
class DeployCommandTest {
    @TempDir
    Path dir;

    static LocalnetEndToEndTest.Run run(String... args) {
        return LocalnetEndToEndTest.tally(args);
    }

    static void assertBadInput(LocalnetEndToEndTest.Run r, String message) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains(message).doesNotContain("Exception", "\tat ");
    }

    @Test
    void k8sWritesAKustomizeBase() {
        Path out = dir.resolve("chain");
        LocalnetEndToEndTest.Run r = run(
                "deploy",
                "k8s",
                "--validators",
                "6",
                "--full-nodes",
                "1",
                "--image",
                "registry.example/tally:1",
                "--out",
                out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("apply with: kubectl apply -k " + out);
        assertThat(out.resolve("kustomization.yaml")).exists();
        assertThat(out.resolve("validator-keys.yaml")).exists();
    }

    @Test
    void k8sRefusesBadSettingsNamingThem() throws Exception {
        assertBadInput(
                run(
                        "deploy",
                        "k8s",
                        "--validators",
                        "6",
                        "--out",
                        dir.resolve("a").toString()),
                "this development build has no version to tag the image with: give --image");
        assertBadInput(
                run(
                        "deploy",
                        "k8s",
                        "--validators",
                        "6",
                        "--namespace",
                        "Prod",
                        "--image",
                        "i",
                        "--out",
                        dir.resolve("b").toString()),
                "--namespace must be a DNS label");
        Files.writeString(Files.createDirectories(dir.resolve("c")).resolve("x"), "x");
        assertBadInput(
                run(
                        "deploy",
                        "k8s",
                        "--validators",
                        "6",
                        "--image",
                        "i",
                        "--out",
                        dir.resolve("c").toString()),
                "is not empty");
    }

    @Test
    void installKeysNamesAMissingDirectory() {
        Path from = dir.resolve("none");
        assertBadInput(
                run(
                        "deploy",
                        "install-keys",
                        "--from",
                        from.toString(),
                        "--to",
                        dir.resolve("keys").toString()),
                "no such directory: " + from);
    }
}
