package dev.easel.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.model.SdDetector;
import dev.easel.core.model.SdModelInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code easel inspect}: what a model file or folder holds, read from its header only (no tensor data), so it
 * answers in milliseconds for multi-gigabyte files.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Shows a model's format, family, layout, components, tensor and parameter counts, dtypes and "
                + "metadata, without reading its tensors.",
            "  easel inspect v1-5-pruned.ckpt",
            "  easel inspect --json model.safetensors",
            "Reads with the built-in formats (no engine start); --plugins DIR also loads format plugins from bundles."})
public final class InspectCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--json", description = "Print JSON, with a tensors array of {name, dtype, shape}.")
    boolean json;

    @Parameters(paramLabel = "FILE", description = "A .safetensors, .ckpt/.pt/.bin file or a diffusers folder.")
    Path file;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (FormatSet formats = FormatSet.of(engine);
                TensorSource source = ModelFormats.open(formats.formats(), file)) {
            SdModelInfo info = SdDetector.detect(source.tensors(), source.metadata());
            long parameters = 0;
            Map<DType, Integer> histogram = new EnumMap<>(DType.class);
            for (TensorInfo t : source.tensors()) {
                parameters += t.elementCount();
                histogram.merge(t.dtype(), 1, Integer::sum);
            }
            if (json) {
                out.println(json(source, info, parameters, histogram));
            } else {
                text(out, source, info, parameters, histogram);
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String json(TensorSource source, SdModelInfo info, long parameters, Map<DType, Integer> histogram)
            throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("file", source.location().toString());
        root.put("format", source.formatId());
        root.put("family", info.family().id());
        root.put("layout", info.layout().id());
        ArrayNode components = root.putArray("components");
        info.components().forEach(components::add);
        root.put("ema", info.ema());
        root.put("inpainting", info.inpainting());
        root.put("in_channels", info.inChannels());
        root.put("prediction", info.prediction());
        root.put("tensor_count", source.tensors().size());
        root.put("parameter_count", parameters);
        ObjectNode dtypes = root.putObject("dtypes");
        histogram.forEach((k, v) -> dtypes.put(k.name(), v));
        ObjectNode meta = root.putObject("metadata");
        source.metadata().forEach(meta::put);
        ArrayNode tensors = root.putArray("tensors");
        for (TensorInfo t : source.tensors()) {
            ObjectNode n = tensors.addObject();
            n.put("name", t.name());
            n.put("dtype", t.dtype().name());
            ArrayNode shape = n.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
        }
        return mapper.writeValueAsString(root);
    }

    private static void text(PrintWriter out, TensorSource source, SdModelInfo info, long parameters,
            Map<DType, Integer> histogram) {
        out.printf("file:        %s%n", source.location());
        out.printf("format:      %s%n", source.formatId());
        out.printf("family:      %s%n", info.family().id());
        out.printf("layout:      %s%n", info.layout().id());
        out.printf("components:  %s%n", info.components().isEmpty() ? "-" : String.join(", ", info.components()));
        out.printf("ema:         %s%n", info.ema() ? "yes" : "no");
        out.printf("inpainting:  %s%n", info.inChannels() == 0 ? "-"
                : (info.inpainting() ? "yes" : "no") + " (" + info.inChannels() + " input channels)");
        out.printf("prediction:  %s%n", info.prediction());
        out.printf("tensors:     %d%n", source.tensors().size());
        out.printf("parameters:  %,d%n", parameters);
        StringBuilder d = new StringBuilder();
        histogram.forEach((k, v) -> d.append(d.length() == 0 ? "" : ", ").append(k.name()).append(' ').append(v));
        out.printf("dtypes:      %s%n", d.length() == 0 ? "-" : d);
        if (!source.metadata().isEmpty()) {
            out.println("metadata:");
            source.metadata().forEach((k, v) -> out.printf("  %s = %s%n", k,
                    v.length() > 200 ? v.substring(0, 200) + "... (" + v.length() + " chars)" : v));
        }
    }
}
