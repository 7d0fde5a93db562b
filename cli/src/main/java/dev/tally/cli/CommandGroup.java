package dev.tally.cli;

import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * A command that only groups subcommands ({@code tally}, {@code keys}, {@code db}, ...). Picocli has no
 * required-subcommand setting, so a group run on its own says so and lists its subcommands.
 */
abstract class CommandGroup implements Runnable {
    @Spec
    private CommandSpec spec;

    @Override
    public final void run() {
        String visible = String.join(
                ", ",
                spec.subcommands().entrySet().stream()
                        .filter(e ->
                                !e.getValue().getCommandSpec().usageMessage().hidden())
                        .map(Map.Entry::getKey)
                        .toList());
        throw new ParameterException(spec.commandLine(), "Missing subcommand: " + visible);
    }
}
