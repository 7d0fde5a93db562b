package dev.tally.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** HTTP over a raw socket, for tests that send what no HTTP client would: the abuse tests of the node's endpoints. */
public final class RawHttp {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RawHttp() {}

    /** One answer: the status, the headers as they came, and the body. */
    public record Answer(int status, String head, String body) {
        public JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    public static Socket connect(InetSocketAddress to) throws IOException {
        Socket s = new Socket(to.getAddress(), to.getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    /** Sends the bytes on a fresh connection and reads the answer (the server closes after an error). */
    public static Answer exchange(InetSocketAddress to, String request) throws IOException {
        try (Socket s = connect(to)) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return readAnswer(s.getInputStream());
        }
    }

    /**
     * Writes a POST of {@code body} to {@code path} as {@code contentType}: the head, then the first {@code sent} bytes
     * of the body (all of it, or a part that leaves the request unfinished), flushed.
     */
    public static void post(OutputStream out, String path, String contentType, byte[] body, int sent)
            throws IOException {
        out.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + contentType + "\r\nContent-Length: "
                        + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(body, 0, sent);
        out.flush();
    }

    /**
     * Sends {@code requestLine} then headers a byte every 200 ms, each in time for a per-read timeout, never finishing
     * (slowloris): the answer, which must come once the server's deadline for the whole request passes.
     */
    public static Answer neverFinishedHeaders(InetSocketAddress to, String requestLine)
            throws IOException, InterruptedException {
        try (Socket s = connect(to)) {
            OutputStream out = s.getOutputStream();
            out.write((requestLine + "\r\n").getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 8; i++) {
                out.write('X');
                out.flush();
                Thread.sleep(200);
            }
            return readAnswer(s.getInputStream());
        }
    }

    /** One whole answer (headers and a body of its Content-Length); a reset or a cut answer fails the test. */
    public static Answer readAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) >= 0; ) {
            got.write(buf, 0, n);
            String text = got.toString(StandardCharsets.ISO_8859_1); // one char per byte, to count the body's bytes
            int split = text.indexOf("\r\n\r\n");
            Matcher length = Pattern.compile("(?i)content-length: (\\d+)").matcher(text);
            if (split >= 0 && length.find() && text.length() - split - 4 >= Integer.parseInt(length.group(1))) {
                break;
            }
        }
        byte[] bytes = got.toByteArray();
        int split = got.toString(StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");
        assertThat(split).as("a whole HTTP answer, not a reset: %s", got).isPositive();
        return new Answer(
                Integer.parseInt(new String(bytes, 9, 3, StandardCharsets.US_ASCII)),
                new String(bytes, 0, split, StandardCharsets.ISO_8859_1),
                new String(bytes, split + 4, bytes.length - split - 4, StandardCharsets.UTF_8));
    }
}
