package dev.tally.conformance;

/** A trace file that cannot be read as an execution of the model: names the file and what is wrong. */
public final class TraceFormatException extends Exception {
    public TraceFormatException(String file, String problem) {
        super(file + ": " + problem);
    }
}
