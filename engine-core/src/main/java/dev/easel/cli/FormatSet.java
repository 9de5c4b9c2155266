package dev.easel.cli;

import dev.easel.api.format.ModelFormat;
import dev.easel.core.Easel;
import dev.easel.core.format.ModelFormats;
import java.util.List;

/**
 * The model formats a file command reads and writes with. The core's built-in formats need no engine, so
 * {@code inspect} and {@code convert} answer without starting the compute runtime and plugin host (seconds of
 * start-up); with {@code --plugins DIR} the engine starts and format plugins from bundles take part too.
 */
final class FormatSet implements AutoCloseable {
    private final Easel easel;
    private final List<ModelFormat> formats;

    private FormatSet(Easel easel, List<ModelFormat> formats) {
        this.easel = easel;
        this.formats = formats;
    }

    static FormatSet of(EngineOptions engine) {
        if (engine.pluginsDir == null) {
            return new FormatSet(null, ModelFormats.builtIn());
        }
        Easel easel = engine.start(false);
        return new FormatSet(easel, ModelFormats.installed(easel.registry()));
    }

    List<ModelFormat> formats() {
        return formats;
    }

    @Override
    public void close() {
        if (easel != null) {
            easel.close();
        }
    }
}
