package dev.easel.core.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.train.io.TensorFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * VAE latents on disk, one safetensors file per (image content, VAE, bucket, resize, crop, flip). The key never
 * involves the image's path or time stamps: a renamed or copied image hits, an edited one misses, and runs with
 * other output folders share entries.
 */
public final class LatentCache {
    private final Path dir;
    private final String vaeIdentity;
    private final AtomicInteger hits = new AtomicInteger();
    private final AtomicInteger stores = new AtomicInteger();

    public LatentCache(Path dir, String vaeIdentity) {
        this.dir = dir;
        this.vaeIdentity = vaeIdentity;
    }

    /** The default cache folder: {@code $XDG_CACHE_HOME/easel/latents} or {@code ~/.cache/easel/latents}. */
    public static Path defaultDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("easel").resolve("latents");
    }

    /** sha256 of a file's bytes, hex. */
    public static String hashFile(Path file) throws IOException {
        return hex(sha256().digest(Files.readAllBytes(file)));
    }

    /** The cache file of one image variant. */
    public Path file(ImageEntry e, boolean flip) {
        Bucket b = e.bucket();
        String key = e.contentHash() + "|" + vaeIdentity + "|" + b.width() + "x" + b.height() + "|"
                + b.resizedWidth() + "x" + b.resizedHeight() + "|" + b.cropLeft() + "," + b.cropTop() + "|"
                + (flip ? "flip" : "noflip");
        String name = hex(sha256().digest(key.getBytes(StandardCharsets.UTF_8)));
        return dir.resolve(name.substring(0, 2)).resolve(name + ".safetensors");
    }

    /** Whether a variant is cached. */
    public boolean has(ImageEntry e, boolean flip) {
        return Files.isRegularFile(file(e, flip));
    }

    /** Loads a cached latent {@code [4, h, w]}. */
    public NDArray load(ImageEntry e, boolean flip, NDManager manager) throws IOException {
        Path f = file(e, flip);
        NDArray latent = TensorFiles.read(f, manager).get("latent");
        if (latent == null) {
            throw new IOException(f + ": latent cache entry has no 'latent' tensor");
        }
        hits.incrementAndGet();
        return latent;
    }

    /** Stores a latent {@code [4, h, w]} atomically. */
    public void store(ImageEntry e, boolean flip, NDArray latent) throws IOException {
        Path f = file(e, flip);
        Files.createDirectories(f.getParent());
        TensorFiles.write(f, Map.of("latent", latent), Map.of("image_sha256", e.contentHash(), "vae", vaeIdentity,
                "source", e.path().getFileName().toString()));
        stores.incrementAndGet();
    }

    /** Entries read so far. */
    public int hits() {
        return hits.get();
    }

    /** Entries written so far. */
    public int stores() {
        return stores.get();
    }

    /** The cache folder. */
    public Path dir() {
        return dir;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
