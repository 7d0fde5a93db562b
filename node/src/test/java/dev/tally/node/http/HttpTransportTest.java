package dev.tally.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.node.config.HttpLimits;
import dev.tally.node.http.RawHttp.Answer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How the transport reads a request: lines however they arrive, and the same refusal for each over-long one. */
class HttpTransportTest {
    private HttpTransport server;

    @BeforeEach
    void start() throws Exception {
        HttpLimits limits = HttpLimits.DEFAULT; // request line 8 KiB, headers 16 KiB
        server = HttpTransport.start(
                "test",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                limits,
                new HttpTransport.Handler() {
                    @Override
                    public HttpTransport.Response handle(HttpTransport.Request r) {
                        return new HttpTransport.Response(
                                200,
                                "text/plain",
                                r.method() + " " + r.path() + " x-echo="
                                        + r.headers().get("x-echo") + " body="
                                        + new String(r.body(), StandardCharsets.US_ASCII));
                    }

                    @Override
                    public HttpTransport.Response refusal(int status, String message) {
                        return new HttpTransport.Response(status, "text/plain", message);
                    }
                });
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void aRequestArrivingInPiecesSplitInsideItsLinesIsReadWhole() throws Exception {
        String request = "POST /p HTTP/1.1\r\nX-Echo:  spaced value \r\nContent-Length: 4\r\n\r\nbody";
        try (Socket s = RawHttp.connect(server.address())) {
            OutputStream out = s.getOutputStream();
            // Pieces of 3 bytes: some end between CR and LF, some inside a header's name.
            byte[] bytes = request.getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < bytes.length; i += 3) {
                out.write(bytes, i, Math.min(3, bytes.length - i));
                out.flush();
                Thread.sleep(5);
            }
            Answer a = RawHttp.readAnswer(s.getInputStream());
            assertThat(a.status()).isEqualTo(200);
            assertThat(a.body()).isEqualTo("POST /p x-echo=spaced value body=body");
        }
    }

    @Test
    void eachOverLongLineIsRefusedWithItsOwnStatusAndMessage() throws Exception {
        for (int i = 0; i < 2; i++) {
            Answer line = RawHttp.exchange(server.address(), "GET /" + "a".repeat(8 * 1024) + " HTTP/1.1\r\n\r\n");
            assertThat(line.status()).isEqualTo(414);
            assertThat(line.body()).isEqualTo("the request line is longer than 8192 bytes");
            Answer headers = RawHttp.exchange(
                    server.address(), "GET / HTTP/1.1\r\nX-Long: " + "b".repeat(16 * 1024) + "\r\n\r\n");
            assertThat(headers.status()).isEqualTo(431);
            assertThat(headers.body()).startsWith("request headers exceed ").endsWith(" lines or 16384 bytes");
        }
        String longest =
                "GET /" + "a".repeat(8 * 1024 - 1 - "GET / HTTP/1.1".length()) + " HTTP/1.1\r"; // the CR counts
        Answer exact = RawHttp.exchange(server.address(), longest + "\nConnection: close\r\n\r\n");
        assertThat(exact.status()).as("a request line of exactly the limit").isEqualTo(200);
    }
}
