package dev.easel.core.osgi;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.EaselPlugin;
import dev.easel.core.BuildInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.slf4j.Logger;

/**
 * The packages the host shares with bundles through the system bundle: engine-api, DJL's api, Jackson and SLF4J.
 *
 * <p>Jars that carry OSGi metadata (engine-api, Jackson, SLF4J) contribute their {@code Export-Package} header as
 * is, versions and {@code uses:} included. DJL's jar has none, so its packages are listed from the jar itself at
 * DJL's version. Every other host class (Felix, Guice, the core) stays invisible to plugins.
 */
public final class SystemPackages {
    private final String header;
    private final Map<String, String> versions;

    private SystemPackages(String header, Map<String, String> versions) {
        this.header = header;
        this.versions = Collections.unmodifiableMap(versions);
    }

    /** Computes the exports from the jars the host runs with. */
    public static SystemPackages compute() {
        StringBuilder header = new StringBuilder();
        Map<String, String> versions = new LinkedHashMap<>();
        for (Class<?> anchor : new Class<?>[] {EaselPlugin.class, JsonProperty.class, JsonFactory.class,
                ObjectMapper.class, Logger.class}) {
            String exports = exportHeader(anchor);
            if (exports == null) {
                throw new IllegalStateException(anchor.getName() + " comes from a jar without OSGi exports: "
                        + codeSource(anchor));
            }
            for (ManifestHeaders.Clause c : ManifestHeaders.parse(exports)) {
                versions.putIfAbsent(c.path(), c.attributes().getOrDefault("version", "0.0.0"));
            }
            append(header, exports);
        }
        String djl = BuildInfo.djlVersion();
        for (String pkg : packagesOf(NDArray.class)) {
            versions.putIfAbsent(pkg, djl);
            append(header, pkg + ";version=\"" + djl + "\"");
        }
        return new SystemPackages(header.toString(), versions);
    }

    private static void append(StringBuilder header, String exports) {
        if (header.length() > 0) {
            header.append(',');
        }
        header.append(exports);
    }

    /** The value of {@code org.osgi.framework.system.packages.extra}. */
    public String header() {
        return header;
    }

    /** Exported package name to version. */
    public Map<String, String> versions() {
        return versions;
    }

    private static Path codeSource(Class<?> anchor) {
        try {
            return Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("cannot locate the jar of " + anchor.getName(), e);
        }
    }

    private static String exportHeader(Class<?> anchor) {
        Path where = codeSource(anchor);
        try {
            Manifest mf;
            if (Files.isDirectory(where)) {
                Path file = where.resolve("META-INF/MANIFEST.MF");
                if (!Files.exists(file)) {
                    return null;
                }
                try (InputStream in = Files.newInputStream(file)) {
                    mf = new Manifest(in);
                }
            } else {
                try (JarFile jar = new JarFile(where.toFile())) {
                    mf = jar.getManifest();
                }
            }
            return mf == null ? null : mf.getMainAttributes().getValue("Export-Package");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the manifest of " + where, e);
        }
    }

    private static TreeSet<String> packagesOf(Class<?> anchor) {
        Path where = codeSource(anchor);
        TreeSet<String> packages = new TreeSet<>();
        try {
            if (Files.isDirectory(where)) {
                try (Stream<Path> files = Files.walk(where)) {
                    files.filter(p -> p.toString().endsWith(".class")).forEach(p -> {
                        Path rel = where.relativize(p.getParent());
                        packages.add(rel.toString().replace('/', '.'));
                    });
                }
            } else {
                try (JarFile jar = new JarFile(where.toFile())) {
                    Enumeration<? extends ZipEntry> entries = jar.entries();
                    while (entries.hasMoreElements()) {
                        String name = entries.nextElement().getName();
                        int slash = name.lastIndexOf('/');
                        if (name.endsWith(".class") && slash > 0 && !name.startsWith("META-INF/")) {
                            packages.add(name.substring(0, slash).replace('/', '.'));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the packages of " + where, e);
        }
        return packages;
    }
}
