package dev.tally.cli;

import java.util.List;

/** Input the operator must fix (a file, a key, a line): reported without a stack trace, exit status 2. */
public final class BadInputException extends Exception {
    private final List<String> problems;

    public BadInputException(String problem) {
        this(List.of(problem));
    }

    public BadInputException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    /** One line each. */
    public List<String> problems() {
        return problems;
    }
}
