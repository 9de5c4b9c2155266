package dev.easel.core.adapter;

import ai.djl.ndarray.NDManager;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.DType;
import dev.easel.core.merge.ModelIo;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * {@code easel lora resize}: kohya's {@code resize_lora.py} semantics (SVD of {@code up·down} without the scale, new
 * factors {@code U_k·S_k} and {@code V_kᵀ}, new alpha {@code (α/r)·k} so the scale is kept, fixed or dynamic rank,
 * no clamping), computed from the factors alone (QR of each, SVD of the r×r core) instead of the full matrix.
 */
public final class LoraResizer {
    private final ComputeRuntime runtime;
    private final ModelIo io;
    private final List<AdapterType> types;

    public LoraResizer(ComputeRuntime runtime, ModelIo io, List<AdapterType> types) {
        this.runtime = runtime;
        this.io = io;
        this.types = List.copyOf(types);
    }

    /**
     * A resize.
     *
     * @param input         the LoRA to resize
     * @param rank          the new rank (the cap for dynamic methods)
     * @param convRank      the new rank of 3x3 conv modules, or {@code null} for {@code rank}
     * @param dynamicMethod {@code null}, {@code sv_ratio}, {@code sv_cumulative} or {@code sv_fro}
     * @param dynamicParam  the dynamic method's parameter
     * @param output        the file to write
     * @param dtype         the save type, or {@code null} for the input's
     * @param fullSvd       build the full matrix and take its SVD (kohya's path; for comparison and benchmarks)
     */
    public record Request(Path input, int rank, Integer convRank, String dynamicMethod, double dynamicParam,
                          Path output, DType dtype, boolean fullSvd) {
    }

    /**
     * What a resize did.
     *
     * @param modules      modules written
     * @param ranks        module count per new rank
     * @param minRetained  the smallest Frobenius share kept by any module
     * @param svdNanos     time spent in the decompositions
     * @param wallNanos    elapsed time
     */
    public record Result(Path output, int modules, Map<Integer, Integer> ranks, double minRetained, long svdNanos,
                         long wallNanos) {
    }

    public Result resize(Request request) {
        long t0 = System.nanoTime();
        if (request.rank() < 1) {
            throw new IllegalArgumentException("--rank must be at least 1");
        }
        try (AdapterFile file = AdapterFile.open(io.open(request.input()), types, null);
             NDManager manager = runtime.newManager()) {
            if (file.modules().isEmpty()) {
                throw new AdapterException(request.input() + ": no LoRA module found");
            }
            requireAllRecognised(file);
            boolean sdxl = AdapterNames.looksSdxl(file.modules().keySet(), file.metadata());
            DType dtype = request.dtype() != null ? request.dtype() : saveType(file);
            List<LoadedModule> modules = new ArrayList<>(file.modules().values());
            Resized[] results = new Resized[modules.size()];
            java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(
                    Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 4)));
            try {
                pool.submit(() -> java.util.stream.IntStream.range(0, modules.size()).parallel()
                        .forEach(i -> results[i] = resize(file, modules.get(i), request, sdxl))).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AdapterException("resize interrupted");
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new AdapterException(e.getCause().getMessage(), e.getCause());
            } finally {
                pool.shutdownNow();
            }
            List<LoraOutput> outputs = new ArrayList<>();
            Map<Integer, Integer> ranks = new java.util.TreeMap<>();
            double minRetained = 1;
            long svdNanos = 0;
            for (Resized r : results) {
                outputs.add(r.output());
                ranks.merge(r.output().rank(), 1, Integer::sum);
                minRetained = Math.min(minRetained, r.retained());
                svdNanos += r.svdNanos();
            }
            Map<String, String> md = new LinkedHashMap<>(file.metadata());
            md.remove("sshs_legacy_hash");
            String how = request.dynamicMethod() == null ? "rank " + request.rank()
                    : request.dynamicMethod() + " " + request.dynamicParam() + " (max rank " + request.rank() + ")";
            String comment = String.format(Locale.ROOT, "resized by easel to %s from %s; %s", how,
                    file.metadata().getOrDefault("ss_network_dim", "?"),
                    file.metadata().getOrDefault("ss_training_comment", ""));
            Map<String, String> fresh = KohyaMetadata.of(outputs, KohyaMetadata.Base.of(file.metadata(),
                    file.modules().keySet()), title(request.output()), comment.strip(), Map.of());
            for (String keep : List.of("modelspec.title", "ss_output_name", "modelspec.date")) {
                if (md.containsKey(keep)) {
                    fresh.remove(keep);
                }
            }
            md.putAll(fresh);
            LoraWriter.write(io, request.output(), LoraWriter.kohyaTensors(outputs), dtype, md, true, manager);
            return new Result(request.output(), outputs.size(), ranks, minRetained, svdNanos, System.nanoTime() - t0);
        } catch (IOException e) {
            throw new UncheckedIOException(request.input() + ": " + e.getMessage(), e);
        }
    }

    /** One resized module, with what the summary reports. */
    private record Resized(LoraOutput output, double retained, long svdNanos) {
    }

    private Resized resize(AdapterFile file, LoadedModule m, Request request, boolean sdxl) {
        ModuleDelta d;
        try (NDManager scope = runtime.newManager()) {
            d = ModuleDelta.of(file, m, scope);
        }
        int cap = d.kernel() != null && d.kernel()[0] * d.kernel()[1] > 1 && request.convRank() != null
                ? request.convRank() : request.rank();
        long ts = System.nanoTime();
        LowRank.Svd svd;
        double scale;
        if (d.full() != null) {
            svd = LowRank.full(d.full());
            scale = 1;
        } else {
            svd = request.fullSvd() ? LowRank.full(product(d)) : LowRank.ofProduct(d.up(), d.down());
            scale = d.scale();
        }
        long svdNanos = System.nanoTime() - ts;
        int k = Math.min(LowRank.rank(svd.s(), request.dynamicMethod(), request.dynamicParam(), cap), svd.s().length);
        LowRank.Factors f = LowRank.truncate(svd, k);
        return new Resized(new LoraOutput(AdapterNames.toKohya(m.name(), sdxl), f.up(), f.down(), scale * k, d.in(),
                d.kernel()), LowRank.retained(svd.s(), k), svdNanos);
    }

    private static org.ejml.data.DMatrixRMaj product(ModuleDelta d) {
        org.ejml.data.DMatrixRMaj m = new org.ejml.data.DMatrixRMaj(d.up().numRows, d.down().numCols);
        CommonOps_DDRM.mult(d.up(), d.down(), m);
        return m;
    }

    static void requireAllRecognised(AdapterFile file) {
        if (!file.unrecognized().isEmpty()) {
            var first = file.unrecognized().entrySet().iterator().next();
            throw new AdapterException(file.location() + ": no adapter type recognises module '" + first.getKey()
                    + "' (keys " + first.getValue() + ")");
        }
    }

    /** The type the file stores its factors in (kohya saves everything in one type). */
    static DType saveType(AdapterFile file) {
        for (var m : file.modules().values()) {
            for (var t : m.module().tensors().values()) {
                if (t.dtype().isFloatingPoint() && t.rank() >= 2) {
                    return t.dtype();
                }
            }
        }
        return DType.F16;
    }

    static String title(Path output) {
        String name = output.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
