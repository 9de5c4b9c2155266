package dev.easel.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.merge.ModelIo;
import dev.easel.core.merge.TensorArrays;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ejml.data.DMatrixRMaj;

/**
 * {@code easel lora extract}: kohya's {@code extract_lora_from_models.py} on ldm-layout checkpoints. For every module
 * kohya trains by default (UNet transformer linears and projections, CLIP attention and MLP; with a conv rank also
 * the resnet and sampler convs), {@code ΔW = W_tuned − W_base}, SVD in double precision, {@code up = U_k·S_k},
 * {@code down = V_kᵀ}, kohya's 0.99 quantile clamp, alpha = k. Text encoders whose weights differ by no more than
 * {@code min_diff} anywhere are left out, as kohya does.
 */
public final class LoraExtractor {
    private static final Pattern ATTENTION = Pattern.compile("(?:input_blocks\\.\\d+\\.1|middle_block\\.1|output_blocks\\.\\d+\\.1)"
            + "\\.(?:proj_in|proj_out|transformer_blocks\\.\\d+\\.(?:attn[12]\\.(?:to_q|to_k|to_v|to_out\\.0)|ff\\.net\\.(?:0\\.proj|2)))");
    private static final Pattern CONV = Pattern.compile("(?:(?:input_blocks\\.\\d+\\.0|middle_block\\.[02]|output_blocks\\.\\d+\\.0)"
            + "\\.(?:in_layers\\.2|out_layers\\.3|emb_layers\\.1|skip_connection)|input_blocks\\.\\d+\\.0\\.op"
            + "|output_blocks\\.\\d+\\.[12]\\.conv)");
    private static final Pattern CLIP = Pattern.compile("(cond_stage_model\\.transformer\\.|conditioner\\.embedders\\.0\\.transformer\\.)"
            + "(text_model\\.encoder\\.layers\\.\\d+\\.(?:self_attn\\.(?:q_proj|k_proj|v_proj|out_proj)|mlp\\.fc[12]))");
    private static final Pattern OPEN_CLIP = Pattern.compile("(cond_stage_model\\.model\\.|conditioner\\.embedders\\.1\\.model\\.)"
            + "transformer\\.resblocks\\.(\\d+)\\.(attn\\.in_proj_weight|attn\\.out_proj\\.weight|mlp\\.c_fc\\.weight|mlp\\.c_proj\\.weight)");

    private final ComputeRuntime runtime;
    private final ModelIo io;

    public LoraExtractor(ComputeRuntime runtime, ModelIo io) {
        this.runtime = runtime;
        this.io = io;
    }

    /**
     * An extraction.
     *
     * @param convRank      rank of 3x3 conv modules, or {@code null} to leave resnets out (kohya without --conv_dim)
     * @param clampQuantile kohya's clamp (0.99; 1 disables)
     * @param minDiff       kohya's min_diff for text encoders (0.01)
     */
    public record Request(Path base, Path tuned, int rank, Integer convRank, Path output, DType dtype,
                          double clampQuantile, double minDiff, int threads) {
    }

    /** What an extraction did. */
    public record Result(Path output, int modules, List<String> notes, long wallNanos) {
    }

    /** One module to extract: its kohya name, checkpoint key, row slice, rank, and which encoder it belongs to. */
    private record Job(String name, String key, int part, int parts, int rank, String encoder) {
    }

    public Result extract(Request request) {
        long t0 = System.nanoTime();
        try (TensorSource base = io.open(request.base()); TensorSource tuned = io.open(request.tuned());
             NDManager manager = runtime.newManager()) {
            boolean sdxl = base.tensors().stream().anyMatch(t -> t.name().startsWith("conditioner."));
            List<Job> jobs = jobs(base, request, sdxl);
            if (jobs.isEmpty()) {
                throw new AdapterException(request.base() + ": no module kohya would train was found (extract needs "
                        + "an ldm-layout checkpoint: model.diffusion_model.*, cond_stage_model.*)");
            }
            List<LoraOutput> outputs = new ArrayList<>(java.util.Collections.nCopies(jobs.size(), null));
            Map<String, Double> encoderMax = new java.util.concurrent.ConcurrentHashMap<>();
            AtomicReference<RuntimeException> failure = new AtomicReference<>();
            int threads = request.threads() > 0 ? request.threads()
                    : Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 4));
            java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(threads);
            try {
                pool.submit(() -> java.util.stream.IntStream.range(0, jobs.size()).parallel().forEach(i -> {
                    if (failure.get() != null) {
                        return;
                    }
                    try {
                        outputs.set(i, extract(jobs.get(i), base, tuned, request, encoderMax));
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                    }
                })).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AdapterException("extract interrupted");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new AdapterException(e.getCause().getMessage(), e.getCause());
            } finally {
                pool.shutdownNow();
            }
            if (failure.get() != null) {
                throw failure.get();
            }
            List<String> notes = new ArrayList<>();
            List<LoraOutput> kept = new ArrayList<>();
            for (int i = 0; i < jobs.size(); i++) {
                String enc = jobs.get(i).encoder();
                if (enc != null && encoderMax.getOrDefault(enc, 0.0) <= request.minDiff()) {
                    continue;
                }
                kept.add(outputs.get(i));
            }
            for (String enc : List.of("text_encoder", "text_encoder_2")) {
                if (jobs.stream().anyMatch(j -> enc.equals(j.encoder()))
                        && encoderMax.getOrDefault(enc, 0.0) <= request.minDiff()) {
                    notes.add(enc + " left out: no weight differs by more than " + request.minDiff());
                }
            }
            KohyaMetadata.Base family = sdxl ? KohyaMetadata.Base.SDXL
                    : base.tensors().stream().anyMatch(t -> t.name().startsWith("cond_stage_model.model."))
                    ? KohyaMetadata.Base.SD2 : KohyaMetadata.Base.SD1;
            Map<String, String> md = new java.util.LinkedHashMap<>(KohyaMetadata.of(kept, family,
                    LoraResizer.title(request.output()), null, Map.of()));
            md.put("ss_network_dim", Integer.toString(request.rank()));
            md.put("ss_network_alpha", KohyaMetadata.pyFloat(request.rank()));
            if (request.convRank() != null) {
                md.put("ss_network_args", "{\"conv_alpha\": \"" + KohyaMetadata.pyFloat(request.convRank())
                        + "\", \"conv_dim\": \"" + request.convRank() + "\"}");
            }
            DType dtype = request.dtype() != null ? request.dtype() : DType.F16;
            LoraWriter.write(io, request.output(), LoraWriter.kohyaTensors(kept), dtype, md, true, manager);
            return new Result(request.output(), kept.size(), notes, System.nanoTime() - t0);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    private List<Job> jobs(TensorSource base, Request request, boolean sdxl) {
        List<Job> jobs = new ArrayList<>();
        // The diffusers names assume SD's two resnets and a downsampler per level (input_blocks.3 is the first
        // downsampler); a UNet of another shape keeps ldm spelling, which kohya's key map and A1111 also read.
        boolean standardUnet = base.info("model.diffusion_model.input_blocks.3.0.op.weight").isPresent();
        for (TensorInfo t : base.tensors()) {
            String key = t.name();
            if (key.startsWith("model.diffusion_model.") && key.endsWith(".weight")) {
                String p = key.substring("model.diffusion_model.".length(), key.length() - ".weight".length());
                boolean attention = ATTENTION.matcher(p).matches();
                boolean conv = !attention && request.convRank() != null && CONV.matcher(p).matches();
                if (!attention && !conv) {
                    continue;
                }
                // kohya spells SD1/SD2 modules the diffusers way; a UNet whose blocks have no diffusers name (a
                // non-standard size) keeps the ldm spelling, which the key map and A1111 accept as well.
                String diffusers = sdxl || !standardUnet ? null : UnetNames.ldmToDiffusers(p);
                String spelled = diffusers == null ? p : diffusers;
                int rank = t.rank() == 4 && t.dim(2) * t.dim(3) > 1 ? request.convRank() : request.rank();
                jobs.add(new Job("lora_unet_" + KohyaNames.flatten(spelled), key, 0, 1, rank, null));
                continue;
            }
            Matcher clip = CLIP.matcher(key);
            if (clip.lookingAt() && key.equals(clip.group(0) + ".weight")) {
                boolean xl = clip.group(1).startsWith("conditioner");
                jobs.add(new Job((xl ? "lora_te1_" : "lora_te_") + KohyaNames.flatten(clip.group(2)), key, 0, 1,
                        request.rank(), "text_encoder"));
                continue;
            }
            Matcher oc = OPEN_CLIP.matcher(key);
            if (oc.matches()) {
                boolean xl = oc.group(1).startsWith("conditioner");
                String prefix = (xl ? "lora_te2_" : "lora_te_") + "text_model_encoder_layers_" + oc.group(2) + "_";
                String encoder = xl ? "text_encoder_2" : "text_encoder";
                switch (oc.group(3)) {
                    case "attn.in_proj_weight" -> {
                        String[] qkv = {"q_proj", "k_proj", "v_proj"};
                        for (int i = 0; i < 3; i++) {
                            jobs.add(new Job(prefix + "self_attn_" + qkv[i], key, i, 3, request.rank(), encoder));
                        }
                    }
                    case "attn.out_proj.weight" -> jobs.add(new Job(prefix + "self_attn_out_proj", key, 0, 1,
                            request.rank(), encoder));
                    case "mlp.c_fc.weight" -> jobs.add(new Job(prefix + "mlp_fc1", key, 0, 1, request.rank(), encoder));
                    default -> jobs.add(new Job(prefix + "mlp_fc2", key, 0, 1, request.rank(), encoder));
                }
            }
        }
        return jobs;
    }

    private LoraOutput extract(Job job, TensorSource base, TensorSource tuned, Request request,
                               Map<String, Double> encoderMax) {
        TensorInfo bi = base.info(job.key()).orElseThrow();
        TensorInfo ti = tuned.info(job.key()).orElseThrow(() -> new AdapterException(request.tuned() + ": key '"
                + job.key() + "' is missing (it is in " + request.base() + ")"));
        if (!bi.sameShape(ti)) {
            throw new AdapterException(request.tuned() + ": key '" + job.key() + "' is " + ti
                    + " but " + request.base() + " has " + bi);
        }
        long[] shape = bi.shape();
        try (NDManager m = runtime.newManager()) {
            NDArray w0 = TensorArrays.toFloat32(m, base.read(job.key()), bi.dtype(), new Shape(shape));
            NDArray w1 = TensorArrays.toFloat32(m, tuned.read(job.key()), ti.dtype(), new Shape(shape));
            NDArray diff = w1.sub(w0);
            if (job.parts() > 1) {
                long rows = shape[0] / job.parts();
                diff = diff.get(job.part() * rows + ":" + (job.part() + 1) * rows);
            }
            long out = diff.getShape().get(0);
            if (job.encoder() != null) {
                double max = diff.abs().max().getFloat();
                encoderMax.merge(job.encoder(), max, Math::max);
            }
            DMatrixRMaj dw = ModuleDelta.matrix(diff, (int) out);
            LowRank.Svd svd = LowRank.full(dw);
            int k = Math.min(Math.min(job.rank(), svd.s().length), (int) Math.min(out, shape[1]));
            LowRank.Factors f = LowRank.truncate(svd, k);
            LowRank.clampQuantile(f, request.clampQuantile());
            int[] kernel = shape.length == 4 ? new int[] {(int) shape[2], (int) shape[3]} : null;
            return new LoraOutput(job.name(), f.up(), f.down(), k, (int) shape[1], kernel);
        } catch (IOException e) {
            throw new AdapterException("cannot read '" + job.key() + "': " + e.getMessage(), e);
        }
    }
}
