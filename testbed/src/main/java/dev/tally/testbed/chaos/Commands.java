package dev.tally.testbed.chaos;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Runs a system command ({@code kill}, {@code mount}, {@code chmod}) with its output discarded. */
final class Commands {
    private Commands() {}

    /** The command's exit status, or −1 if it did not finish within 30 s. */
    static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
