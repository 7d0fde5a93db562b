package dev.tally.conformance;

/** A value of the trace that has no meaning in the run: a key outside the committee, a view without a leader. */
final class ModelTermException extends RuntimeException {
    ModelTermException(String problem) {
        super(problem);
    }
}
