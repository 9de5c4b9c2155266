package dev.easel.core.sd.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.AtomicOutputFile;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.sd.nn.ParamKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Random-initialised models in the exact ldm single-file key layout: {@code tiny} (the parity model's sizes, 3.3 M
 * parameters, 13 MB) for tests and demos, {@code sd15} (the real SD1.5 shapes, 1.07 B parameters, 4.3 GB) for
 * benchmarks, {@code sd2}, or any ldm config file. Tensors are generated and streamed one at a time (memory stays
 * flat); each key's values depend only on (seed, key). A config that is not recognisable from the keys is written
 * beside the model as {@code NAME.json}, where loaders look for it.
 */
public final class RandomModels {
    private static final String TINY = "/dev/easel/core/sd/configs/tiny-sd1.json";

    private RandomModels() {
    }

    /** What {@link #write} made ({@code parameters} counts the float tensors, not the {@code position_ids} buffer). */
    public record Result(Path model, Path config, long tensors, long parameters) {
    }

    /** The tiny SD1 config (the parity model's). */
    public static SdModelConfig tinyConfig() {
        return ModelConfigs.parse(readTree(tinyJson()));
    }

    private static byte[] tinyJson() {
        try (InputStream in = RandomModels.class.getResourceAsStream(TINY)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static com.fasterxml.jackson.databind.JsonNode readTree(byte[] json) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a random model.
     *
     * @param config {@code tiny}, {@code sd15} (or {@code sd1}), {@code sd2}, or the path of an ldm config file
     */
    public static Result write(String config, long seed, Path out) throws IOException {
        return write(config, seed, out, InitScheme.PARITY);
    }

    /**
     * Writes a random model drawn by {@code scheme}.
     *
     * @param config {@code tiny}, {@code easel-tiny}, {@code sd15} (or {@code sd1}), {@code sd2}, or an ldm config
     */
    public static Result write(String config, long seed, Path out, InitScheme scheme) throws IOException {
        String name = config.toLowerCase(Locale.ROOT);
        return switch (name) {
            case "tiny" -> write(tinyConfig(), seed, out, tinyJson(), ".json", scheme);
            case "easel-tiny" -> write(EaselTiny.config(), seed, out, EaselTiny.configBytes(), ".json", scheme);
            case "sd15", "sd1" -> write(SdModelConfig.sd1(), seed, out, null, null, scheme);
            case "sd2", "sd21" -> write(SdModelConfig.sd2("v"), seed, out, null, null, scheme);
            default -> {
                Path file = Path.of(config);
                if (!Files.isRegularFile(file)) {
                    throw new ModelLoadException(file, "no such config (use tiny, sd15, sd2 or an ldm config file)");
                }
                String fn = file.getFileName().toString().toLowerCase(Locale.ROOT);
                yield write(ModelConfigs.read(file), seed, out, Files.readAllBytes(file),
                        fn.endsWith(".json") ? ".json" : ".yaml", scheme);
            }
        };
    }

    /** Writes a random model of {@code config}; {@code configBytes} (if any) goes beside it as NAME+ext. */
    public static Result write(SdModelConfig config, long seed, Path out, byte[] configBytes, String ext)
            throws IOException {
        return write(config, seed, out, configBytes, ext, InitScheme.PARITY);
    }

    /** Writes a model of {@code config} drawn by {@code scheme}; {@code configBytes} (if any) goes beside it. */
    public static Result write(SdModelConfig config, long seed, Path out, byte[] configBytes, String ext,
                               InitScheme scheme) throws IOException {
        Map<String, PlannedWeights.Planned> keys = new LinkedHashMap<>(SdModel.plan(config).keys());
        if (!config.text().openClip()) {
            keys.put("cond_stage_model.transformer.text_model.embeddings.position_ids",
                    new PlannedWeights.Planned(new long[] {1, config.text().maxPositions()}, ParamKind.POSITION_IDS));
        }
        List<TensorInfo> infos = new ArrayList<>();
        long params = 0;
        for (var e : keys.entrySet()) {
            DType t = e.getValue().kind() == ParamKind.POSITION_IDS ? DType.I64 : DType.F32;
            TensorInfo info = new TensorInfo(e.getKey(), t, e.getValue().shape());
            infos.add(info);
            if (t == DType.F32) {
                params += info.elementCount();
            }
        }
        Path configPath = null;
        if (configBytes != null) {
            String n = out.getFileName().toString();
            int dot = n.lastIndexOf('.');
            configPath = out.resolveSibling((dot > 0 ? n.substring(0, dot) : n) + ext);
            try (AtomicOutputFile f = AtomicOutputFile.create(configPath)) {
                f.channel().write(ByteBuffer.wrap(configBytes));
                f.commit();
            }
        }
        Map<String, String> metadata = Map.of("format", "pt");
        try (SafetensorsWriter w = SafetensorsWriter.create(out, new WritePlan(infos, metadata))) {
            keys.entrySet().parallelStream().forEach(e -> {
                try {
                    w.write(e.getKey(), dev.easel.core.sd.model.RandomWeights.values(seed, e.getKey(),
                            e.getValue().shape(), e.getValue().kind(), scheme));
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
            });
            w.commit();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return new Result(out, configPath, infos.size(), params);
    }
}
