package dev.tally.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/** A trace that is not a complete execution of the model is refused with a clear error naming the file. */
class MalformedTraceTest {
    @TempDir
    Path dir;

    private static byte[] bundled(String name) throws IOException {
        try (InputStream in = MalformedTraceTest.class.getResourceAsStream("/traces/" + name)) {
            return in.readAllBytes();
        }
    }

    private static byte[] xz(String text) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (XZOutputStream xz = new XZOutputStream(out, new LZMA2Options())) {
            xz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    private static String decompressed(byte[] compressed) throws IOException {
        try (InputStream in = new org.tukaani.xz.XZInputStream(new java.io.ByteArrayInputStream(compressed))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private String refusal(String name, byte[] content) throws IOException {
        Files.write(dir.resolve(name), content);
        try {
            Conformance.run(Conformance.directory(dir), Replay.ReplicaFactory.REAL, 1);
        } catch (TraceFormatException e) {
            return e.getMessage();
        }
        throw new AssertionError("the trace " + name + " was not refused");
    }

    @Test
    void aTruncatedXzFileIsRefused() throws Exception {
        byte[] whole = bundled("n6f1b0_0.itf.json.xz");

        assertThat(refusal("cut.itf.json.xz", Arrays.copyOf(whole, whole.length / 2)))
                .startsWith("cut.itf.json.xz: not a complete xz stream")
                .doesNotContain("null");
    }

    @Test
    void aTruncatedJsonDocumentIsRefused() throws Exception {
        String json = decompressed(bundled("n6f1b0_0.itf.json.xz"));

        assertThat(refusal("half.itf.json.xz", xz(json.substring(0, json.length() / 2))))
                .startsWith("half.itf.json.xz: not valid JSON (Unexpected end-of-input");
    }

    @Test
    void aFileThatIsNotJsonIsRefused() throws Exception {
        assertThat(refusal("text.itf.json.xz", xz("this is not a trace")))
                .startsWith("text.itf.json.xz: not valid JSON");
    }

    @Test
    void aTraceWithoutModelBasedTestingMetadataIsRefused() throws Exception {
        String json = decompressed(bundled("n6f1b0_0.itf.json.xz")).replace("mbt::nondetPicks", "picks");

        assertThat(refusal("nombt.itf.json.xz", xz(json)))
                .isEqualTo(
                        "nombt.itf.json.xz: state 0 has no mbt::actionTaken / mbt::nondetPicks (the trace was not written with quint run --mbt)");
    }

    @Test
    void aTraceOfAnotherModelIsRefused() throws Exception {
        assertThat(
                        refusal(
                                "other.itf.json.xz",
                                xz(
                                        "{\"vars\": [\"x\"], \"states\": [{\"x\": 1, \"mbt::actionTaken\": \"init\", \"mbt::nondetPicks\": {}}]}")))
                .isEqualTo("other.itf.json.xz: state 0 lacks the state variable replica_state");
    }

    @Test
    void aStepWithAValueOfTheWrongShapeIsRefused() throws Exception {
        String json = decompressed(bundled("n6f1b0_0.itf.json.xz"));
        // The first delivered proposal is no longer an Option.
        String broken = json.replaceFirst(
                "\"proposal\":\\{\"tag\":\"Some\",\"value\":\\{",
                "\"proposal\":{\"tag\":\"Some\",\"extra\":1,\"value\":{");

        assertThat(broken).isNotEqualTo(json);
        assertThat(refusal("shape.itf.json.xz", xz(broken)))
                .matches("shape\\.itf\\.json\\.xz: state \\d+: a value does not have the model's shape .*");
    }

    @Test
    void aTraceNamingAKeyOutsideTheCommitteeIsRefused() throws Exception {
        String json = decompressed(bundled("n6f1b0_0.itf.json.xz"));
        // The leader map picked at init names a validator the run does not have.
        int ldr = json.indexOf("\"ldr\":{\"tag\":\"Some\"");
        int leader = json.indexOf("\"n", json.indexOf("#bigint", ldr));
        String broken = json.substring(0, leader) + "\"n9" + json.substring(leader + 3);

        assertThat(refusal("n9.itf.json.xz", xz(broken)))
                .startsWith(
                        "n9.itf.json.xz: state 0: the model names a replica key n9 outside the committee [n0, n1, n2, n3, n4, n5]");
    }
}
