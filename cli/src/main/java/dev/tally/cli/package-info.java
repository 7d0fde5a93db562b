/**
 * The {@code tally} command line ({@code bin/tally}): {@link dev.tally.cli.Main}, {@link dev.tally.cli.TallyCommand}
 * and one thin picocli command per subcommand ({@code node}, {@code keys}, {@code genesis}, {@code localnet},
 * {@code bench}, {@code bench-host}, {@code chaos}, {@code sim}, {@code conformance}, {@code verify-block}), which
 * parse options, report bad input as a {@link dev.tally.cli.BadInputException} and call the modules below.
 *
 * <p>The top of the module graph: it depends on node, testbed, sim and conformance, and nothing depends on it.
 */
package dev.tally.cli;
