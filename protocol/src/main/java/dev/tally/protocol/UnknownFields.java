package dev.tally.protocol;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.lang.invoke.CallSite;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Refuses a parsed protobuf message that holds an unknown field at any depth, naming the path of the first one: an
 * unknown field would be dropped on re-encoding, so the signed or hashed bytes would differ from the received ones.
 *
 * <p>The check runs on every message received (at n = 100 about 200 a validator per view), so it does not go through
 * protobuf's reflection, which builds a map of the fields of every message it walks: the message-typed fields of each
 * generated class are found once per class (from its descriptor), each with its generated getter bound into a
 * {@link Function} as a method reference would be (a method handle called through a field is not inlined and checks
 * its customization at each call: 1 % of a node's CPU at n = 100). A walk of a good message allocates nothing: the
 * path is put together only on the way back from an unknown field.
 */
public final class UnknownFields {
    private UnknownFields() {}

    private static final ClassValue<SubMessage[]> SUB_MESSAGES = new ClassValue<>() {
        @Override
        protected SubMessage[] computeValue(Class<?> type) {
            return subMessages(type);
        }
    };

    /** Refuses {@code m}, a generated message decoded as {@code name}, if it holds an unknown field at any depth. */
    public static void reject(Message m, String name) throws DecodeException {
        reject(m, FieldPath.root(name));
    }

    static void reject(Message m, FieldPath path) throws DecodeException {
        Found found = find(m);
        if (found != null) {
            throw new DecodeException(found.pathFrom(path) + ": unknown field number(s) "
                    + found.message.getUnknownFields().asMap().keySet());
        }
    }

    /** The first message at or under {@code m} that holds unknown fields, with the way to it; null if none does. */
    private static Found find(Message m) {
        if (!m.getUnknownFields().isEmpty()) {
            return new Found(m);
        }
        for (SubMessage field : SUB_MESSAGES.get(m.getClass())) {
            Found found = field.find(m);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    /** A message holding unknown fields, and the fields and indexes leading to it, outermost first. */
    private static final class Found {
        final Message message;
        private final ArrayDeque<Object> steps = new ArrayDeque<>(); // a field's name, or an element's Integer index

        Found(Message message) {
            this.message = message;
        }

        Found under(String field, int index) {
            if (index >= 0) {
                steps.addFirst(index);
            }
            steps.addFirst(field);
            return this;
        }

        FieldPath pathFrom(FieldPath root) {
            FieldPath path = root;
            for (Object step : steps) {
                path = step instanceof Integer i ? path.element(i) : path.field((String) step);
            }
            return path;
        }
    }

    /**
     * A message-typed field of a generated class: its getter ({@code getX()}, or {@code getXList()} if repeated) and,
     * if singular, the default instance that getter returns when the field is absent (which holds nothing to check).
     */
    private record SubMessage(String name, Function<Message, Object> getter, boolean repeated, Message absent) {
        @SuppressWarnings("ReferenceEquality") // the very default instance: an absent field, cheaper than hasX()
        Found find(Message m) {
            Object value = getter.apply(m);
            if (repeated) {
                List<?> items = (List<?>) value;
                for (int i = 0; i < items.size(); i++) {
                    Found found = UnknownFields.find((Message) items.get(i));
                    if (found != null) {
                        return found.under(name, i);
                    }
                }
                return null;
            }
            if (value == absent) {
                return null;
            }
            Found found = UnknownFields.find((Message) value);
            return found == null ? null : found.under(name, -1);
        }
    }

    private static SubMessage[] subMessages(Class<?> type) {
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
                    accessor(getter),
                    f.isRepeated(),
                    f.isRepeated() ? null : (Message) invokeStatic(getter.getReturnType(), "getDefaultInstance")));
        }
        return fields.toArray(SubMessage[]::new);
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

    /** The generated getter as a function, made as the compiler makes a method reference's. */
    @SuppressWarnings("unchecked")
    private static Function<Message, Object> accessor(Method getter) {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            CallSite site = LambdaMetafactory.metafactory(
                    lookup,
                    "apply",
                    MethodType.methodType(Function.class),
                    MethodType.methodType(Object.class, Object.class),
                    lookup.unreflect(getter),
                    MethodType.methodType(getter.getReturnType(), getter.getDeclaringClass()));
            return (Function<Message, Object>) site.getTarget().invoke();
        } catch (Throwable e) {
            throw new IllegalStateException(getter + " cannot be bound: " + e, e);
        }
    }
}
