package dev.tally.protocol;

/**
 * Where a field sits in a message being decoded, as an error names it ({@code Signed.msg.consensus.v2.key},
 * {@code TimeoutQC.msgs[2].view}). It is a chain of small objects whose text ({@link #toString}) is built only when an
 * error is thrown: decoding a good message, once per received message, builds no strings.
 */
final class FieldPath {
    private final FieldPath parent; // null at the root
    private final String name; // null for an element of a repeated field
    private final int index;

    private FieldPath(FieldPath parent, String name, int index) {
        this.parent = parent;
        this.name = name;
        this.index = index;
    }

    /** The path of a decoded message itself, named after its type ({@code Signed}). */
    static FieldPath root(String name) {
        return new FieldPath(null, name, -1);
    }

    /** A field of this message; {@code name} may also be a dotted run of fields ({@code msg.consensus.v2}). */
    FieldPath field(String name) {
        return new FieldPath(this, name, -1);
    }

    /** The element {@code index} of this repeated field. */
    FieldPath element(int index) {
        return new FieldPath(this, null, index);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        appendTo(text);
        return text.toString();
    }

    private void appendTo(StringBuilder text) {
        if (parent != null) {
            parent.appendTo(text);
        }
        if (name == null) {
            text.append('[').append(index).append(']');
        } else {
            text.append(parent == null ? "" : ".").append(name);
        }
    }
}
