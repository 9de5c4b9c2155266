package dev.easel.core.testplugins;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A merge whose version comes from a {@code version.txt} packed beside it, so one class yields bundles of several
 * versions. Its result is filled with the major version, so a test can tell which revision computed it, and its
 * description names the identity of the DJL engine it sees.
 */
public final class VersionedMerge implements MergeAlgorithm {
    private final PluginDescriptor descriptor;

    public VersionedMerge() {
        String version;
        try (InputStream in = VersionedMerge.class.getResourceAsStream("version.txt")) {
            version = in == null ? "0.0.1" : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        descriptor = PluginDescriptor.of("probe/versioned", version,
                "engine@" + System.identityHashCode(Engine.getInstance()));
    }

    @Override
    public PluginDescriptor descriptor() {
        return descriptor;
    }

    @Override
    public List<String> inputs() {
        return List.of("a");
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        return inputs.get(0).zerosLike().add(descriptor.version().major());
    }
}
