package dev.tally.protocol;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

/**
 * Refuses a parsed protobuf message that holds an unknown field at any depth, naming the path of the first one: an
 * unknown field would be dropped on re-encoding, so the signed or hashed bytes would differ from the received ones.
 *
 * <p>The check runs on every message received, so it does not go through protobuf's reflection, which builds a map of
 * the fields of every message it walks: the message-typed fields of each generated class, and handles on their
 * generated getters, are found once per class (from its descriptor) and cached; a check then calls those getters only.
 */
public final class UnknownFields {
    private UnknownFields() {}

    private static final ClassValue<List<SubMessage>> SUB_MESSAGES = new ClassValue<>() {
        @Override
        protected List<SubMessage> computeValue(Class<?> type) {
            return subMessages(type);
        }
    };

    /** Refuses {@code m}, a generated message decoded as {@code name}, if it holds an unknown field at any depth. */
    public static void reject(Message m, String name) throws DecodeException {
        reject(m, FieldPath.root(name));
    }

    static void reject(Message m, FieldPath path) throws DecodeException {
        if (!m.getUnknownFields().isEmpty()) {
            throw new DecodeException(path + ": unknown field number(s) "
                    + m.getUnknownFields().asMap().keySet());
        }
        for (SubMessage field : SUB_MESSAGES.get(m.getClass())) {
            field.reject(m, path);
        }
    }

    /**
     * A message-typed field of a generated class: its getter ({@code getX()}, or {@code getXList()} if repeated) and,
     * if singular, the default instance that getter returns when the field is absent (which holds nothing to check).
     */
    private record SubMessage(String name, MethodHandle getter, boolean repeated, Message absent) {
        @SuppressWarnings("ReferenceEquality") // the very default instance: an absent field, cheaper than hasX()
        void reject(Message m, FieldPath path) throws DecodeException {
            Object value = get(m);
            if (repeated) {
                List<?> items = (List<?>) value;
                for (int i = 0; i < items.size(); i++) {
                    UnknownFields.reject(
                            (Message) items.get(i), path.field(name).element(i));
                }
            } else if (value != absent) {
                UnknownFields.reject((Message) value, path.field(name));
            }
        }

        private Object get(Message m) {
            try {
                return (Object) getter.invokeExact(m); // the cast is the handle's type, which invokeExact must match
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                // A generated getter declares no checked exception.
                throw new IllegalStateException(e);
            }
        }
    }

    private static List<SubMessage> subMessages(Class<?> type) {
        Descriptor descriptor = descriptorOf(type);
        List<SubMessage> fields = new ArrayList<>();
        for (FieldDescriptor f : descriptor.getFields()) {
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (f.isMapField()) {
                throw new IllegalStateException(f.getFullName() + ": map fields are not supported");
            }
            String getterName = "get" + javaName(f.getName()) + (f.isRepeated() ? "List" : "");
            Method getter;
            try {
                getter = type.getMethod(getterName);
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(
                        f.getFullName() + ": no getter " + type.getName() + "." + getterName, e);
            }
            Type element = f.isRepeated()
                    ? ((ParameterizedType) getter.getGenericReturnType()).getActualTypeArguments()[0]
                    : getter.getReturnType();
            if (!(element instanceof Class<?> c) || !descriptorOf(c).equals(f.getMessageType())) {
                throw new IllegalStateException(f.getFullName() + ": " + getter + " does not return "
                        + f.getMessageType().getFullName());
            }
            fields.add(new SubMessage(
                    f.getName(),
                    handle(getter),
                    f.isRepeated(),
                    f.isRepeated() ? null : (Message) invokeStatic(getter.getReturnType(), "getDefaultInstance")));
        }
        return List.copyOf(fields);
    }

    /** The name protoc gives a field in its Java accessors: {@code high_qc} is {@code HighQc}, {@code bls12_381} is {@code Bls12381}. */
    private static String javaName(String fieldName) {
        StringBuilder name = new StringBuilder();
        boolean capitalizeNext = true;
        for (int i = 0; i < fieldName.length(); i++) {
            char c = fieldName.charAt(i);
            if (c >= 'a' && c <= 'z') {
                name.append(capitalizeNext ? Character.toUpperCase(c) : c);
                capitalizeNext = false;
            } else if (c >= 'A' && c <= 'Z') {
                name.append(c);
                capitalizeNext = false;
            } else if (c >= '0' && c <= '9') {
                name.append(c);
                capitalizeNext = true;
            } else {
                capitalizeNext = true;
            }
        }
        return name.toString();
    }

    private static Descriptor descriptorOf(Class<?> type) {
        if (!(invokeStatic(type, "getDescriptor") instanceof Descriptor d)) {
            throw new IllegalStateException(type.getName() + " is not a generated protobuf message");
        }
        return d;
    }

    private static Object invokeStatic(Class<?> type, String method) {
        try {
            return type.getMethod(method).invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(type.getName() + " is not a generated protobuf message", e);
        }
    }

    private static MethodHandle handle(Method getter) {
        try {
            return MethodHandles.publicLookup()
                    .unreflect(getter)
                    .asType(MethodType.methodType(Object.class, Message.class));
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(getter + " is not accessible", e);
        }
    }
}
