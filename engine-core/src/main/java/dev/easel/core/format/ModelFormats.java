package dev.easel.core.format;

import dev.easel.api.format.Detection;
import dev.easel.api.format.ModelFormat;
import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Chooses the {@link ModelFormat} for a path: every installed format {@link ModelFormat#detect detects}, the
 * surest answer wins ({@link Detection#CONTENT} beats {@link Detection#NAME}), and two formats tied at the top
 * are an error naming both, because guessing between them could read a file wrongly (a pickle named
 * {@code .safetensors} is read as what it is, never as what it claims).
 */
public final class ModelFormats {
    private ModelFormats() {
    }

    /**
     * The formats built into the core (safetensors, PyTorch checkpoints, diffusers folders), without starting an
     * engine: what {@code easel inspect} and {@code easel convert} use unless told to load plugin bundles.
     */
    public static List<ModelFormat> builtIn() {
        List<ModelFormat> formats = new ArrayList<>();
        java.util.ServiceLoader.load(ModelFormat.class, ModelFormats.class.getClassLoader()).stream()
                .filter(p -> p.type().getClassLoader() == ModelFormats.class.getClassLoader())
                .forEach(p -> formats.add(p.get()));
        return formats;
    }

    /** The active formats of a registry, one per id (its selected, highest version). */
    public static List<ModelFormat> installed(PluginRegistry registry) {
        Map<String, ModelFormat> byId = new LinkedHashMap<>();
        for (ModelFormat f : registry.services(ModelFormat.class)) {
            String id = f.descriptor().id();
            if (!byId.containsKey(id)) {
                byId.put(id, (ModelFormat) registry.select(PluginKind.MODEL_FORMAT, id).plugin());
            }
        }
        return new ArrayList<>(byId.values());
    }

    /** The format that reads {@code path}, among the registry's. */
    public static ModelFormat forReading(PluginRegistry registry, Path path) throws IOException {
        return forReading(installed(registry), path);
    }

    /**
     * The format that reads {@code path}.
     *
     * @throws ModelFormatException if the path does not exist, no format recognises it, or two formats are
     *                              equally sure
     */
    public static ModelFormat forReading(List<ModelFormat> formats, Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, "no such file or folder");
        }
        if (!Files.isReadable(path)) {
            throw new ModelFormatException(path, "is not readable");
        }
        Detection best = Detection.NO;
        List<ModelFormat> winners = new ArrayList<>();
        for (ModelFormat f : formats) {
            Detection d;
            try {
                d = f.detect(path);
            } catch (IOException e) {
                throw new ModelFormatException(path, "cannot be read: " + e.getMessage(), e);
            }
            if (d.compareTo(best) > 0) {
                best = d;
                winners.clear();
            }
            if (d == best && d != Detection.NO) {
                winners.add(f);
            }
        }
        if (winners.isEmpty()) {
            throw new ModelFormatException(path, "is not in a known model format (installed: "
                    + formats.stream().map(f -> f.descriptor().id()).sorted().collect(Collectors.joining(", "))
                    + ")");
        }
        if (winners.size() > 1) {
            throw new ModelFormatException(path, "is ambiguous: " + winners.stream().map(f -> f.descriptor().id())
                    .sorted().collect(Collectors.joining(" and ")) + " both recognise its "
                    + (best == Detection.CONTENT ? "content" : "name"));
        }
        return winners.get(0);
    }

    /** Opens {@code path} with the format {@link #forReading(PluginRegistry, Path)} picks. */
    public static TensorSource open(PluginRegistry registry, Path path) throws IOException {
        return forReading(registry, path).open(path);
    }

    /** Opens {@code path} with the format {@link #forReading(List, Path)} picks. */
    public static TensorSource open(List<ModelFormat> formats, Path path) throws IOException {
        return forReading(formats, path).open(path);
    }

    /**
     * The writable format for an output path: by extension for files, the folder format (no extensions) for a
     * path without one.
     *
     * @throws ModelFormatException if no writable format claims the name
     */
    public static ModelFormat forWriting(List<ModelFormat> formats, Path target) throws ModelFormatException {
        String name = target.getFileName() == null ? "" : target.getFileName().toString().toLowerCase(Locale.ROOT);
        List<ModelFormat> writable = formats.stream().filter(ModelFormat::canWrite).collect(Collectors.toList());
        List<ModelFormat> byExtension = writable.stream()
                .filter(f -> f.extensions().stream().anyMatch(e -> name.endsWith("." + e)))
                .collect(Collectors.toList());
        if (byExtension.size() == 1) {
            return byExtension.get(0);
        }
        if (byExtension.size() > 1) {
            throw new ModelFormatException(target, "is ambiguous: " + byExtension.stream()
                    .map(f -> f.descriptor().id()).sorted().collect(Collectors.joining(" and "))
                    + " both write files named so");
        }
        throw new ModelFormatException(target, "no installed format writes files named so (writable: "
                + writable.stream().map(f -> f.descriptor().id() + " " + f.extensions()).sorted()
                .collect(Collectors.joining(", ")) + ")");
    }
}
