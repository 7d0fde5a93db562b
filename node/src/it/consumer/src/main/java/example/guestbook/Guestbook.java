package example.guestbook;

import dev.tally.execution.AppliedState;
import dev.tally.execution.Application;
import dev.tally.execution.PayloadVerdict;
import dev.tally.execution.TxCheck;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A guestbook replicated by Tally: each transaction is a name (UTF-8, 1 to 40 characters) that signs the book. The
 * state is the names in the order the chain finalized them; its root is a running SHA-256 over them. The state lives
 * in memory only, so after a restart Tally replays every stored block into it.
 */
public final class Guestbook implements Application {
    public static final int MAX_NAME_LENGTH = 40;

    private final List<String> names = new CopyOnWriteArrayList<>();
    private volatile Optional<AppliedState> last = Optional.empty();
    private byte[] root = new byte[32];

    @Override
    public Optional<AppliedState> lastApplied() {
        return last;
    }

    @Override
    public TxCheck checkTx(byte[] transaction) {
        return problem(transaction).map(TxCheck::refused).orElse(TxCheck.ok());
    }

    @Override
    public PayloadVerdict verifyBlock(long blockNumber, List<byte[]> transactions) {
        for (byte[] tx : transactions) {
            Optional<String> problem = problem(tx);
            if (problem.isPresent()) {
                return PayloadVerdict.invalid(problem.get());
            }
        }
        return PayloadVerdict.valid();
    }

    @Override
    public byte[] applyBlock(long blockNumber, List<byte[]> transactions) {
        MessageDigest sha256 = sha256();
        for (byte[] tx : transactions) {
            sha256.update(root);
            sha256.update(tx);
            root = sha256.digest();
            names.add(new String(tx, StandardCharsets.UTF_8));
        }
        last = Optional.of(new AppliedState(blockNumber, root));
        return root.clone();
    }

    @Override
    public Set<String> queryMethods() {
        return Set.of("guestbook_signed");
    }

    /** {@code guestbook_signed {"name": ...}}: whether that name has signed. */
    @Override
    public Object query(String method, Map<String, String> params) {
        String name = params.get("name");
        if (name == null) {
            throw new IllegalArgumentException("give the name to look for, as parameter \"name\"");
        }
        return names.contains(name);
    }

    /** The names that signed, in order. */
    public List<String> names() {
        return List.copyOf(names);
    }

    private static Optional<String> problem(byte[] tx) {
        String name = new String(tx, StandardCharsets.UTF_8);
        if (name.isBlank() || name.length() > MAX_NAME_LENGTH) {
            return Optional.of("a name has 1 to " + MAX_NAME_LENGTH + " characters, not all blank");
        }
        return Optional.empty();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
