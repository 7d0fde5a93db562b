package dev.tally.testbed.chaos;

import dev.tally.testbed.chaos.ChaosNode.Status;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Faults of a validator's data directory: wiped, read-only (a read-only bind mount as root, file permissions
 * otherwise) and full (a small tmpfs under the last validator's data, as root). Owns the mounts it makes and undoes
 * them on {@link #unmountAll}.
 */
final class DiskFaults {
    private static final int TMPFS_MB = 256;

    private final NodeProcesses nodes;
    private final Duration viewTimeout;
    private final RunLog log;
    private final List<Path> mounts = new CopyOnWriteArrayList<>();
    private Optional<Integer> tmpfsNode = Optional.empty();
    private boolean mountWorks;

    DiskFaults(NodeProcesses nodes, Duration viewTimeout, RunLog log) {
        this.nodes = nodes;
        this.viewTimeout = viewTimeout;
        this.log = log;
    }

    /** Finds out whether mounts work here (probing in {@code dir}) and, if a full disk is wanted, mounts the tmpfs. */
    void prepare(Path dir, boolean diskFull) throws IOException, InterruptedException {
        mountWorks = isRoot() && probeMount(dir);
        if (mountWorks && diskFull) {
            ChaosNode n = nodes.get(nodes.size() - 1);
            Files.createDirectories(n.member.dataDir());
            if (Commands.run(
                            "mount",
                            "-t",
                            "tmpfs",
                            "-o",
                            "size=" + TMPFS_MB + "m",
                            "tmpfs",
                            n.member.dataDir().toString())
                    == 0) {
                mounts.add(n.member.dataDir());
                tmpfsNode = Optional.of(n.index);
            }
        }
    }

    /** How the set-up line describes the tmpfs, if there is one. */
    String describe() {
        return tmpfsNode.isPresent()
                ? "; " + nodes.get(tmpfsNode.get()).name() + " keeps its data on a " + TMPFS_MB + " MB tmpfs"
                : "";
    }

    /** Whether a full disk can be made (a tmpfs is mounted). */
    boolean canFill() {
        return tmpfsNode.isPresent();
    }

    /** Whether a data directory can be made read-only: root ignores file permissions, so only a read-only mount does. */
    boolean canMakeReadOnly() {
        return mountWorks || !isRoot();
    }

    private static boolean probeMount(Path dir) {
        try {
            Path probe = Files.createTempDirectory(dir, ".mount-probe");
            boolean ok = Commands.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.toString()) == 0;
            if (ok) {
                Commands.run("umount", probe.toString());
            }
            Files.deleteIfExists(probe);
            return ok;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Kills {@code n}, empties its data directory and forgets what it reported: it must re-sync through block sync. */
    void wipe(ChaosNode n) throws IOException, InterruptedException {
        nodes.kill(n, "SIGKILL");
        deleteContents(n.member.dataDir());
        synchronized (n) {
            n.maxReported = -1;
            n.checkedUpTo = -1;
        }
        log.log(n.name() + ": data directory wiped");
    }

    /** Restarts {@code n} on a read-only data directory, where it must refuse to run; then restarts it normally. */
    void readOnly(ChaosNode n) throws IOException, InterruptedException {
        nodes.kill(n, "SIGKILL (to restart on a read-only data directory)");
        Path data = n.member.dataDir();
        boolean mounted = mountReadOnly(data);
        if (!mounted) {
            Commands.run("chmod", "-R", "a-w", data.toString());
        }
        long logFrom = Files.exists(n.member.logFile()) ? Files.size(n.member.logFile()) : 0;
        Process p = Localnet.launch(n.member);
        boolean exited = p.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor();
            log.problem(n.name() + " kept running on a read-only data directory");
        } else {
            String error = firstError(n.member.logFile(), logFrom);
            log.note("read-only data: " + n.name() + " exited with status " + p.exitValue() + ": " + error);
            log.log(n.name() + " on read-only data exited with status " + p.exitValue() + ": " + error);
            if (p.exitValue() == 0) {
                log.problem(n.name() + " exited with status 0 on a read-only data directory");
            }
        }
        if (mounted) {
            unmount(data);
        } else {
            Commands.run("chmod", "-R", "u+w", data.toString());
        }
        nodes.launch(n, true);
    }

    /** Bind-mounts {@code data} read-only onto itself, if mounts work here; whether it did. */
    private boolean mountReadOnly(Path data) throws IOException, InterruptedException {
        if (!mountWorks || Commands.run("mount", "--bind", data.toString(), data.toString()) != 0) {
            return false;
        }
        mounts.add(data);
        if (Commands.run("mount", "-o", "remount,bind,ro", data.toString()) != 0) {
            unmount(data);
            return false;
        }
        return true;
    }

    /** Fills the tmpfs under a running validator: it must stop (or refuse to restart); then frees it and restarts it. */
    void diskFull() throws IOException, InterruptedException {
        ChaosNode n = nodes.get(tmpfsNode.orElseThrow());
        if (n.status() != Status.UP) {
            return;
        }
        Path filler = n.member.dataDir().resolve("filler");
        long logFrom = Files.size(n.member.logFile());
        long written = fill(filler);
        log.log(n.name() + ": its disk is full (" + (written >> 20) + " MB of filler)");
        Process p;
        long heightBefore;
        synchronized (n) {
            p = n.process;
            heightBefore = n.height;
        }
        long waitSeconds = Math.max(20, 10 * viewTimeout.toSeconds());
        boolean exited = p.waitFor(waitSeconds, TimeUnit.SECONDS);
        long heightAfter;
        synchronized (n) {
            heightAfter = n.height;
        }
        if (exited) {
            synchronized (n) {
                n.status = Status.DOWN;
                n.generation++;
            }
            String error = firstError(n.member.logFile(), logFrom);
            log.note("disk full: " + n.name() + " exited with status " + p.exitValue() + ": " + error);
            log.log(n.name() + " on a full disk exited with status " + p.exitValue() + ": " + error);
        } else {
            log.note("disk full: " + n.name() + " was still running after " + waitSeconds + " s, having stored blocks "
                    + heightBefore + " -> " + heightAfter + " meanwhile (" + (written >> 20) + " MB of filler)");
            log.log(n.name() + " still runs on a full disk");
            nodes.kill(n, "SIGKILL (still running on a full disk)");
            restartOnFullDisk(n);
        }
        Files.deleteIfExists(filler);
        nodes.launch(n, true);
    }

    /** Writes {@code filler} until the disk is full (or it is larger than the tmpfs); the bytes written. */
    private static long fill(Path filler) {
        long written = 0;
        try (RandomAccessFile file = new RandomAccessFile(filler.toFile(), "rw")) {
            byte[] mb = new byte[1 << 20];
            while (written < (TMPFS_MB + 1L) << 20) {
                file.write(mb);
                written += mb.length;
            }
        } catch (IOException e) {
            // full
        }
        return written;
    }

    /** A running node may write into space RocksDB allocated before the disk filled; a start must allocate. */
    private void restartOnFullDisk(ChaosNode n) throws IOException, InterruptedException {
        long from = Files.size(n.member.logFile());
        Process q = Localnet.launch(n.member);
        if (q.waitFor(60, TimeUnit.SECONDS)) {
            String error = firstError(n.member.logFile(), from);
            log.note("disk full: " + n.name() + " restarted on the full disk exited with status " + q.exitValue() + ": "
                    + error);
            log.log(n.name() + " restarted on a full disk exited with status " + q.exitValue() + ": " + error);
            if (q.exitValue() == 0) {
                log.problem(n.name() + " exited with status 0 on a full disk");
            }
        } else {
            q.destroyForcibly().waitFor();
            log.note("disk full: " + n.name() + " restarted on the full disk was still running after 60 s");
            log.log(n.name() + " restarted on a full disk still runs after 60 s; killed");
        }
    }

    /** The first line of the log from {@code offset} on that looks like the reason the node stopped. */
    private static String firstError(Path log, long offset) {
        try {
            byte[] all = Files.readAllBytes(log);
            String text = new String(
                    all,
                    (int) Math.min(offset, all.length),
                    (int) (all.length - Math.min(offset, all.length)),
                    StandardCharsets.UTF_8);
            return text.lines()
                    .filter(l -> l.contains("ERROR") || l.startsWith("tally") || l.contains("rror"))
                    .findFirst()
                    .map(String::strip)
                    .orElse("(no error line in " + log + ")");
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    private void unmount(Path dir) throws IOException, InterruptedException {
        if (Commands.run("umount", dir.toString()) == 0 || Commands.run("umount", "-l", dir.toString()) == 0) {
            mounts.remove(dir);
        }
    }

    /** Undoes every mount; one that cannot be undone becomes a note. */
    void unmountAll() {
        for (Path m : List.copyOf(mounts)) {
            try {
                unmount(m);
            } catch (IOException | InterruptedException e) {
                log.note("could not unmount " + m + ": " + e.getMessage());
            }
        }
    }

    private static void deleteContents(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
