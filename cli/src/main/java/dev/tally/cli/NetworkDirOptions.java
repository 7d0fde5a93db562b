package dev.tally.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a command's network (keys, configs, data, logs) lives: {@code --dir}, and {@code --keep}. */
final class NetworkDirOptions {
    @Option(
            names = "--dir",
            paramLabel = "DIR",
            description = "Where the network's keys, configs, data and logs go "
                    + "(default: a temporary directory, deleted afterwards unless --keep).")
    Path dir;

    @Option(names = "--keep", description = "Keep the network's directory (logs, data) after the run.")
    boolean keep;
}
