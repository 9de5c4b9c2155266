package dev.easel.core.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.core.osgi.TestBundles;
import dev.easel.core.testplugins.FailingConstructorMerge;
import dev.easel.core.testplugins.VersionedMerge;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same plugin jars, found without OSGi through ServiceLoader (embedding, unit tests). */
class ClasspathPluginsTest {
    @TempDir
    Path dir;

    @Test
    void registersProvidersFromMetaInfServicesAndRecordsBrokenOnes() throws Exception {
        Path good = TestBundles.bundle("cp.good", "1.0.0").service(MergeAlgorithm.class, VersionedMerge.class)
                .resource("dev/easel/core/testplugins/version.txt", "4.2.0").writeTo(dir.resolve("good.jar"));
        Path bad = TestBundles.bundle("cp.bad", "1.0.0").service(MergeAlgorithm.class, FailingConstructorMerge.class)
                .writeTo(dir.resolve("bad.jar"));
        // Parent = platform loader, so the plugin classes come from the jars, as they would for an embedder.
        try (URLClassLoader loader = new URLClassLoader(new URL[] {good.toUri().toURL(), bad.toUri().toURL()},
                new FilteringLoader(getClass().getClassLoader()))) {
            PluginRegistry registry = new PluginRegistry();
            ClasspathPlugins.load(registry, loader);
            PluginRecord record = registry.select(PluginKind.MERGE_ALGORITHM, "probe/versioned");
            assertEquals("4.2.0", record.version());
            assertEquals("classpath", record.origin().bundle());
            assertTrue(record.origin().location().endsWith("good.jar"), record.origin().location());
            assertTrue(registry.list().stream().anyMatch(r -> r.state() == PluginState.REFUSED
                    && r.reason().contains("cannot initialise")), registry.list().toString());
        }
    }

    /** Hides the test-plugin classes of the test class path so the jars' copies are used. */
    private static final class FilteringLoader extends ClassLoader {
        FilteringLoader(ClassLoader parent) {
            super(parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("dev.easel.core.testplugins.")) {
                throw new ClassNotFoundException(name);
            }
            return super.loadClass(name, resolve);
        }
    }
}
