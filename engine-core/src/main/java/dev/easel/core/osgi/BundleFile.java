package dev.easel.core.osgi;

import dev.easel.core.plugin.PluginKind;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import org.osgi.framework.Version;

/**
 * A plugin jar read into memory and checked before the framework sees it: its bytes (the framework copies them
 * into its cache, so the file may change or vanish afterwards), sha256, OSGi identity and the SPI kinds its
 * {@code META-INF/services} declare.
 *
 * @param path          where it was read from
 * @param bytes         the jar
 * @param sha256        hex digest of the bytes
 * @param symbolicName  {@code Bundle-SymbolicName} without directives
 * @param version       {@code Bundle-Version}
 * @param manifest      the manifest
 * @param kinds         SPI kinds listed under {@code META-INF/services}
 */
public record BundleFile(Path path, byte[] bytes, String sha256, String symbolicName, Version version,
                         Manifest manifest, List<PluginKind> kinds) {

    /**
     * Reads and checks a jar.
     *
     * @throws BundleRejectedException naming the file and the problem if it is not a usable bundle
     */
    public static BundleFile read(Path path) throws IOException, BundleRejectedException {
        byte[] bytes = Files.readAllBytes(path);
        String sha = sha256(bytes);
        Manifest manifest = null;
        List<PluginKind> kinds = new ArrayList<>();
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(bytes), true)) {
            manifest = in.getManifest();
            JarEntry entry;
            int entries = 0;
            while ((entry = in.getNextJarEntry()) != null) {
                entries++;
                String name = entry.getName();
                if (name.startsWith("META-INF/services/")) {
                    PluginKind.forSpiName(name.substring("META-INF/services/".length())).ifPresent(kinds::add);
                }
                in.readAllBytes();
            }
            if (entries == 0 && manifest == null) {
                throw new BundleRejectedException(path, "not a jar file (no entries)", kinds);
            }
        } catch (IOException | SecurityException e) {
            throw new BundleRejectedException(path, "not a valid jar: " + e.getMessage(), kinds);
        }
        if (manifest == null) {
            throw new BundleRejectedException(path, "no META-INF/MANIFEST.MF: not an OSGi bundle", kinds);
        }
        Attributes main = manifest.getMainAttributes();
        String bsn = main.getValue("Bundle-SymbolicName");
        if (bsn == null || bsn.isBlank()) {
            throw new BundleRejectedException(path, "no Bundle-SymbolicName in the manifest: not an OSGi bundle",
                    kinds);
        }
        bsn = bsn.split(";")[0].trim();
        Version version;
        try {
            String v = main.getValue("Bundle-Version");
            version = v == null ? Version.emptyVersion : Version.parseVersion(v.trim());
        } catch (IllegalArgumentException e) {
            throw new BundleRejectedException(path, "invalid Bundle-Version: " + e.getMessage(), kinds);
        }
        if (main.getValue("Bundle-NativeCode") != null) {
            throw new BundleRejectedException(path, "bundle " + bsn + " carries native code (Bundle-NativeCode);"
                    + " plugins must use the host's libtorch through DJL", kinds);
        }
        return new BundleFile(path, bytes, sha, bsn, version, manifest, List.copyOf(kinds));
    }

    /** The identity shown in listings: {@code bsn version}. */
    public String label() {
        return symbolicName + " " + version;
    }

    /** Hex sha256 of a byte array. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
