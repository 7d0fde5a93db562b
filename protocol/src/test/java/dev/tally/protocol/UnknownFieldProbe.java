package dev.tally.protocol;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * A generated message that holds an unknown field (number 99) inside one of its message-typed fields, as bytes, with
 * the error that must refuse it when the bytes are decoded as {@code type}'s descriptor name. A repeated field gets two
 * elements, the unknown field in the second.
 */
public record UnknownFieldProbe(Message type, String field, byte[] bytes, String expectedError) {
    public static final int UNKNOWN_NUMBER = 99;

    /** One probe for every message-typed field of every message class generated into {@code outerClass}. */
    public static List<UnknownFieldProbe> everyMessageField(Class<?> outerClass) {
        List<UnknownFieldProbe> probes = new ArrayList<>();
        for (Message type : generatedMessages(outerClass)) {
            for (FieldDescriptor f : type.getDescriptorForType().getFields()) {
                if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                    probes.add(probe(type, f));
                }
            }
        }
        return probes;
    }

    /** {@code m} with an unknown field added at its own level. */
    public static Message withUnknownField(Message m) {
        return m.toBuilder()
                .setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(
                                UNKNOWN_NUMBER,
                                UnknownFieldSet.Field.newBuilder().addVarint(1).build())
                        .build())
                .build();
    }

    private static UnknownFieldProbe probe(Message type, FieldDescriptor f) {
        Message.Builder b = type.newBuilderForType();
        Message bad = withUnknownField(b.newBuilderForField(f).build());
        String path = type.getDescriptorForType().getName() + "." + f.getName();
        if (f.isRepeated()) {
            b.addRepeatedField(f, b.newBuilderForField(f).build()).addRepeatedField(f, bad);
            path += "[1]";
        } else {
            b.setField(f, bad);
        }
        return new UnknownFieldProbe(
                type,
                f.getFullName(),
                b.build().toByteArray(),
                path + ": unknown field number(s) [" + UNKNOWN_NUMBER + "]");
    }

    /** The default instances of the message classes nested (at any depth) in a protoc-generated outer class. */
    private static List<Message> generatedMessages(Class<?> outer) {
        List<Message> messages = new ArrayList<>();
        for (Class<?> c : outer.getDeclaredClasses()) {
            if (Message.class.isAssignableFrom(c) && !Modifier.isAbstract(c.getModifiers())) {
                try {
                    messages.add((Message) c.getMethod("getDefaultInstance").invoke(null));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(c + " has no default instance", e);
                }
                messages.addAll(generatedMessages(c));
            }
        }
        return messages;
    }
}
