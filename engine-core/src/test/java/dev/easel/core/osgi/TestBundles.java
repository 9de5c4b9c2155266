package dev.easel.core.osgi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Builds real OSGi bundle jars at test time from compiled test classes, so host tests can drop bundles of any
 * version, import range or behaviour into a watched folder.
 */
public final class TestBundles {
    /** Imports every test bundle needs to implement a merge algorithm with NDArrays. */
    public static final String MERGE_IMPORTS = "dev.easel.api;version=\"[1.0,2)\","
            + "dev.easel.api.merge;version=\"[1.0,2)\",ai.djl.ndarray;version=\"[0.36,0.37)\","
            + "ai.djl.engine;version=\"[0.36,0.37)\"";

    private final String symbolicName;
    private final String version;
    private String imports = MERGE_IMPORTS;
    private String activator;
    private final List<Class<?>> classes = new ArrayList<>();
    private final Map<String, byte[]> resources = new LinkedHashMap<>();

    private TestBundles(String symbolicName, String version) {
        this.symbolicName = symbolicName;
        this.version = version;
    }

    /** Starts a bundle description. */
    public static TestBundles bundle(String symbolicName, String version) {
        return new TestBundles(symbolicName, version);
    }

    /** Replaces the Import-Package header. */
    public TestBundles imports(String header) {
        this.imports = header;
        return this;
    }

    /** Packs a compiled class. */
    public TestBundles withClass(Class<?> type) {
        classes.add(type);
        return this;
    }

    /** Packs a class and lists it as a provider of an SPI in META-INF/services. */
    public TestBundles service(Class<?> spi, Class<?> implementation) {
        withClass(implementation);
        resources.merge("META-INF/services/" + spi.getName(),
                (implementation.getName() + "\n").getBytes(StandardCharsets.UTF_8), TestBundles::concat);
        return this;
    }

    /** Packs a text resource. */
    public TestBundles resource(String path, String text) {
        resources.put(path, text.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** Sets a Bundle-Activator (the class is packed too). */
    public TestBundles activator(Class<?> type) {
        withClass(type);
        this.activator = type.getName();
        return this;
    }

    /** Writes the jar to a temp file beside {@code target}, then moves it into place (as a user's copy would). */
    public Path writeTo(Path target) throws IOException {
        Manifest mf = new Manifest();
        Attributes main = mf.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", symbolicName);
        main.putValue("Bundle-Version", version);
        if (imports != null && !imports.isEmpty()) {
            main.putValue("Import-Package", imports + (activator != null ? ",org.osgi.framework" : ""));
        } else if (activator != null) {
            main.putValue("Import-Package", "org.osgi.framework");
        }
        if (activator != null) {
            main.putValue("Bundle-Activator", activator);
        }
        Path tmp = Files.createTempFile(target.getParent() == null ? Path.of(".") : Files.createTempDirectory("tb"),
                "bundle", ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp); JarOutputStream jar = new JarOutputStream(out, mf)) {
            for (Class<?> c : classes) {
                String name = c.getName().replace('.', '/') + ".class";
                jar.putNextEntry(new JarEntry(name));
                try (InputStream in = c.getClassLoader().getResourceAsStream(name)) {
                    if (in == null) {
                        throw new IOException("class file not found: " + name);
                    }
                    in.transferTo(jar);
                }
                jar.closeEntry();
            }
            for (Map.Entry<String, byte[]> r : resources.entrySet()) {
                jar.putNextEntry(new JarEntry(r.getKey()));
                jar.write(r.getValue());
                jar.closeEntry();
            }
        }
        Files.createDirectories(target.toAbsolutePath().getParent());
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    /** A bundle of {@link dev.easel.core.testplugins.VersionedMerge} at the given version. */
    public static TestBundles versionedMerge(String symbolicName, String version) {
        return bundle(symbolicName, version)
                .service(dev.easel.api.merge.MergeAlgorithm.class, dev.easel.core.testplugins.VersionedMerge.class)
                .resource("dev/easel/core/testplugins/version.txt", version);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
