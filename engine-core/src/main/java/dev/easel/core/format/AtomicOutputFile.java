package dev.easel.core.format;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A file being written under a temporary name beside its target, renamed over the target only on
 * {@link #commit()}: a crash, an error or a {@link #close()} without commit leaves the target as it was and no
 * temporary file behind (except after a hard kill, when a hidden {@code .<name>.*.tmp} file may remain).
 *
 * <p>The temporary file lives in the target's folder so that the rename stays on one file system and is atomic.
 */
public final class AtomicOutputFile implements AutoCloseable {
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final AtomicBoolean finished = new AtomicBoolean();

    private AtomicOutputFile(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
    }

    /**
     * Creates the temporary file for {@code target}.
     *
     * @throws IOException naming the target if its folder is missing or not writable, or the target is a folder
     */
    public static AtomicOutputFile create(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException(target + ": the folder " + dir + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            throw new IOException(target + ": is a folder, expected a file name");
        }
        // Not Files.createTempFile: that makes the file private (0600), and the published model should get the
        // user's usual permissions (umask), like any file the user's other tools write.
        for (int attempt = 0; ; attempt++) {
            Path temp = dir.resolve("." + absolute.getFileName() + "."
                    + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        StandardOpenOption.READ);
                return new AtomicOutputFile(target, temp, channel);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            } catch (IOException e) {
                throw new IOException(target + ": cannot create a file in " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    /** Where the file will appear. */
    public Path target() {
        return target;
    }

    /** The temporary file's channel, for positional writes from any thread. */
    public FileChannel channel() {
        return channel;
    }

    /** Closes the temporary file and renames it over the target. */
    public void commit() throws IOException {
        if (!finished.compareAndSet(false, true)) {
            throw new IllegalStateException(target + ": already committed or closed");
        }
        try {
            channel.close();
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw new IOException(target + ": cannot be written: " + e.getMessage(), e);
        }
    }

    /** Discards the temporary file unless committed; idempotent. */
    @Override
    public void close() throws IOException {
        if (finished.compareAndSet(false, true)) {
            try {
                channel.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }
}
