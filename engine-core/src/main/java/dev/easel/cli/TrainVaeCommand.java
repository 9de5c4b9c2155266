package dev.easel.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.Easel;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.sd.model.ModelConfigs;
import dev.easel.core.sd.model.ModelWriter;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.train.VaeTrainer;
import dev.easel.core.train.data.ImageFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code easel train-vae}: trains a checkpoint's VAE as an autoencoder on a folder of images. */
@Command(name = "train-vae", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains the VAE of a checkpoint on a folder of images (reconstruction + KL, on random crops) "
                + "and writes the whole checkpoint with it; with a config beside the input, sets scale_factor so "
                + "that latents have unit variance and writes the config beside the output.",
            "  easel train-vae --model init.safetensors --data data --steps 800 --out vae.safetensors"})
public final class TrainVaeCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--model", required = true, paramLabel = "M", description = "Checkpoint whose VAE to train.")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "Images (searched recursively, all of one size).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "OUT.safetensors", description = "Checkpoint to write.")
    Path out;

    @Option(names = "--steps", defaultValue = "1000", paramLabel = "N", description = "Steps (default: 1000).")
    int steps;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "Crops per step (default: 8).")
    int batch;

    @Option(names = "--crop", defaultValue = "32", paramLabel = "PX",
            description = "Crop side, a multiple of 8 (default: 32).")
    int crop;

    @Option(names = "--lr", defaultValue = "1e-3", paramLabel = "LR",
            description = "Peak learning rate of AdamW (warm-up, then cosine to a tenth; default: 1e-3).")
    double lr;

    @Option(names = "--kl", defaultValue = "1e-5", paramLabel = "W",
            description = "KL weight, ldm's convention (SD used 1e-6; default: 1e-5).")
    double kl;

    @Option(names = "--decoder-only", description = "Train the decoder alone; the encoder (and so the latents of "
            + "every image) stays as it is.")
    boolean decoderOnly;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed (default: 0).")
    long seed;

    @Option(names = "--save-precision", defaultValue = "float", paramLabel = "P",
            description = "float, fp16 or bf16 (default: float).")
    String savePrecision;

    @Option(names = {"-q", "--quiet"}, description = "Log only the result.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--out must name a .safetensors file");
        }
        DType dtype = switch (savePrecision) {
            case "float", "fp32" -> DType.F32;
            case "fp16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--save-precision must be float, fp16 or bf16");
        };
        VaeTrainer.Options options;
        try {
            options = new VaeTrainer.Options(steps, batch, crop, lr, kl, seed, 50, decoderOnly);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (!Files.isDirectory(data)) {
            throw new IllegalArgumentException(data + ": not a folder");
        }
        PrintWriter o = spec.commandLine().getOut();
        try (Easel easel = engine.start(false);
             NDManager m = easel.runtime().newManager()) {
            SdModel sd;
            try (TensorSource source = ModelFormats.open(easel.registry(), model)) {
                sd = SdModel.open(source, model, null, m);
            }
            List<Path> images;
            try (Stream<Path> walk = Files.walk(data)) {
                images = walk.filter(Files::isRegularFile).filter(ImageFiles::isImage).sorted().toList();
            }
            try (sd) {
                VaeTrainer trainer = VaeTrainer.of(sd, images);
                VaeTrainer.Result r = trainer.train(options, line -> {
                    if (!quiet) {
                        o.println(line);
                        o.flush();
                    }
                });
                double error = trainer.reconstructionError(64);
                double std = trainer.latentStd(256);
                Optional<Path> beside = ModelConfigs.besideConfig(model);
                byte[] config = null;
                String scaleNote;
                if (decoderOnly) {
                    // the latents did not change, and neither may the scale the diffusion model was trained with
                    config = beside.isPresent() ? Files.readAllBytes(beside.get()) : null;
                    scaleNote = "scale_factor kept: the encoder did not train";
                } else if (beside.isPresent() && beside.get().getFileName().toString().endsWith(".json")) {
                    ObjectMapper json = new ObjectMapper();
                    ObjectNode root = (ObjectNode) json.readTree(beside.get().toFile());
                    double scale = Double.parseDouble(String.format(Locale.ROOT, "%.5g", 1 / std));
                    ((ObjectNode) root.path("model").path("params")).put("scale_factor", scale);
                    config = json.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
                    scaleNote = "scale_factor " + scale + " in " + out.getFileName().toString()
                            .replaceAll("\\.safetensors$", ".json");
                } else {
                    scaleNote = "scale_factor kept (no .json config beside the input)";
                }
                Map<String, String> metadata = new java.util.TreeMap<>();
                metadata.put("easel_vae_training", String.format(Locale.ROOT,
                        "steps=%d batch=%d crop=%d lr=%s kl=%s seed=%d%s", steps, batch, crop, lr, kl, seed,
                        decoderOnly ? " decoder-only" : ""));
                if (config != null) {
                    // the config travels inside the checkpoint too, for tools that copy the file alone
                    metadata.put(ModelConfigs.METADATA_KEY, new ObjectMapper().readTree(config).toString());
                }
                ModelWriter.write(sd, out, dtype, metadata, config);
                o.printf(Locale.ROOT, "wrote %s: VAE trained %d steps in %.0f s, reconstruction L1 %.4f on whole "
                        + "images, latent std %.4f (%s)%n", out, steps, r.seconds(), error, std, scaleNote);
                o.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
