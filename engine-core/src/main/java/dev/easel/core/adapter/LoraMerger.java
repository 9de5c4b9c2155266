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
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * {@code easel lora merge}: combines LoRAs into one, per module {@code M = Σ ratio_i·(α_i/r_i)·up_i·down_i} as
 * kohya's {@code svd_merge_lora.py} defines it (not the non-linear {@code merge_lora.py} heuristic). When the ranks
 * add up to at most the requested rank, the result is exact: the scaled factors are concatenated along the rank axis.
 * Otherwise M is reduced to the requested rank by SVD, taken from the concatenated factors (QR of each, SVD of the
 * small core), with alpha = rank and kohya's quantile clamp.
 */
public final class LoraMerger {
    private final ComputeRuntime runtime;
    private final ModelIo io;
    private final List<AdapterType> types;

    public LoraMerger(ComputeRuntime runtime, ModelIo io, List<AdapterType> types) {
        this.runtime = runtime;
        this.io = io;
        this.types = List.copyOf(types);
    }

    /**
     * A merge.
     *
     * @param inputs         the LoRAs and their ratios
     * @param rank           the output rank
     * @param convRank       the output rank of 3x3 conv modules, or {@code null} for {@code rank}
     * @param clampQuantile  kohya's clamp quantile for SVD-reduced modules (0.99; 1 disables it)
     */
    public record Request(List<BakeRequest.Strength> inputs, int rank, Integer convRank, Path output, DType dtype,
                          double clampQuantile) {
    }

    /**
     * What a merge did.
     *
     * @param exact   modules written as exact concatenations
     * @param reduced modules reduced by SVD
     */
    public record Result(Path output, int exact, int reduced, long wallNanos) {
    }

    private record Part(ModuleDelta delta, double ratio, Path file) {
    }

    public Result merge(Request request) {
        long t0 = System.nanoTime();
        List<AdapterFile> files = new ArrayList<>();
        try (NDManager manager = runtime.newManager()) {
            Map<String, List<Part>> byModule = new LinkedHashMap<>();
            boolean sdxl = false;
            DType dtype = request.dtype();
            List<String> titles = new ArrayList<>();
            Map<String, String> firstMetadata = Map.of();
            List<String> allNames = new ArrayList<>();
            for (BakeRequest.Strength s : request.inputs()) {
                AdapterFile f = AdapterFile.open(io.open(s.file()), types, null);
                files.add(f);
                LoraResizer.requireAllRecognised(f);
                sdxl |= AdapterNames.looksSdxl(f.modules().keySet(), f.metadata());
                allNames.addAll(f.modules().keySet());
                if (dtype == null) {
                    dtype = LoraResizer.saveType(f);
                }
                if (titles.isEmpty()) {
                    firstMetadata = f.metadata();
                }
                titles.add(f.metadata().getOrDefault("modelspec.title", LoraResizer.title(s.file())));
            }
            for (int i = 0; i < files.size(); i++) {
                AdapterFile f = files.get(i);
                for (LoadedModule m : f.modules().values()) {
                    ModuleDelta d;
                    try (NDManager scope = manager.newSubManager()) {
                        d = ModuleDelta.of(f, m, scope);
                    }
                    byModule.computeIfAbsent(AdapterNames.toKohya(m.name(), sdxl), k -> new ArrayList<>())
                            .add(new Part(d, request.inputs().get(i).strength(), f.location()));
                }
            }
            List<LoraOutput> outputs = new ArrayList<>();
            int exact = 0;
            int reduced = 0;
            for (Map.Entry<String, List<Part>> e : byModule.entrySet()) {
                List<Part> parts = e.getValue();
                ModuleDelta first = parts.get(0).delta();
                for (Part p : parts) {
                    if (p.delta().out() != first.out() || p.delta().cols() != first.cols()) {
                        throw new AdapterException(p.file() + ": module '" + e.getKey() + "' is "
                                + p.delta().out() + "x" + p.delta().cols() + " but " + parts.get(0).file() + " has it "
                                + first.out() + "x" + first.cols());
                    }
                }
                boolean conv = first.kernel() != null && first.kernel()[0] * first.kernel()[1] > 1;
                int cap = conv && request.convRank() != null ? request.convRank() : request.rank();
                boolean factored = parts.stream().allMatch(p -> p.delta().full() == null);
                int total = parts.stream().mapToInt(p -> p.delta().rank()).sum();
                LoraOutput out;
                if (factored && total <= cap) {
                    DMatrixRMaj up = new DMatrixRMaj(first.out(), total);
                    DMatrixRMaj down = new DMatrixRMaj(total, first.cols());
                    int at = 0;
                    for (Part p : parts) {
                        int r = p.delta().rank();
                        DMatrixRMaj scaled = p.delta().up().copy();
                        CommonOps_DDRM.scale(p.ratio() * p.delta().scale(), scaled);
                        CommonOps_DDRM.insert(scaled, up, 0, at);
                        CommonOps_DDRM.insert(p.delta().down(), down, at, 0);
                        at += r;
                    }
                    out = new LoraOutput(e.getKey(), up, down, total, first.in(), first.kernel());
                    exact++;
                } else {
                    LowRank.Svd svd;
                    if (factored) {
                        DMatrixRMaj up = new DMatrixRMaj(first.out(), total);
                        DMatrixRMaj down = new DMatrixRMaj(total, first.cols());
                        int at = 0;
                        for (Part p : parts) {
                            DMatrixRMaj scaled = p.delta().up().copy();
                            CommonOps_DDRM.scale(p.ratio() * p.delta().scale(), scaled);
                            CommonOps_DDRM.insert(scaled, up, 0, at);
                            CommonOps_DDRM.insert(p.delta().down(), down, at, 0);
                            at += p.delta().rank();
                        }
                        svd = LowRank.ofProduct(up, down);
                    } else {
                        DMatrixRMaj sum = new DMatrixRMaj(first.out(), first.cols());
                        for (Part p : parts) {
                            CommonOps_DDRM.addEquals(sum, p.ratio(), p.delta().dense());
                        }
                        svd = LowRank.full(sum);
                    }
                    int k = Math.min(cap, svd.s().length);
                    LowRank.Factors f = LowRank.truncate(svd, k);
                    LowRank.clampQuantile(f, request.clampQuantile());
                    out = new LoraOutput(e.getKey(), f.up(), f.down(), k, first.in(), first.kernel());
                    reduced++;
                }
                outputs.add(out);
            }
            Map<String, String> md = KohyaMetadata.of(outputs, KohyaMetadata.Base.of(firstMetadata, allNames),
                    LoraResizer.title(request.output()), null,
                    Map.of("modelspec.merged_from", String.join(", ", titles)));
            LoraWriter.write(io, request.output(), LoraWriter.kohyaTensors(outputs), dtype, md, true, manager);
            return new Result(request.output(), exact, reduced, System.nanoTime() - t0);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } finally {
            for (AdapterFile f : files) {
                try {
                    f.close();
                } catch (IOException ignored) {
                    // read-only
                }
            }
        }
    }
}
