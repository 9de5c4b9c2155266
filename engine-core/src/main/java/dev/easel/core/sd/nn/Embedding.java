package dev.easel.core.sd.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.SparseFormat;
import dev.easel.api.model.ModuleKind;
import java.util.ArrayList;
import java.util.List;

/**
 * A token embedding table {@code [vocab, width]}, plus rows added for a training job (textual inversion): the base
 * table stays frozen and bit-identical, the added rows are separate arrays the job trains.
 */
public final class Embedding extends Layer {
    private final List<NDArray> added = new ArrayList<>();

    public Embedding(Spec spec, long vocab, long width, WeightSource source) {
        super(spec, ModuleKind.EMBEDDING, new long[] {vocab, width}, false, source, ParamKind.EMBEDDING, null);
    }

    /** Appends rows {@code [n, width]}; returns the id of the first. */
    public synchronized int addRows(NDArray rows) {
        int first = (int) (weightShape()[0] + addedRows());
        added.add(rows);
        return first;
    }

    /** Rows added so far. */
    public synchronized long addedRows() {
        return added.stream().mapToLong(a -> a.getShape().get(0)).sum();
    }

    @Override
    protected NDArray compute(NDArray ids, NDArray w, NDArray b) {
        List<NDArray> extra;
        synchronized (this) {
            extra = List.copyOf(added);
        }
        if (extra.isEmpty()) {
            return ids.getNDArrayInternal().embedding(ids, w, SparseFormat.DENSE).singletonOrThrow();
        }
        // Look added ids up in a small table of their own and select per token, rather than concatenating the added
        // rows to the 49,408-row table on every forward.
        NDArray extraTable = extra.get(0);
        for (int i = 1; i < extra.size(); i++) {
            extraTable = Ops.local(extraTable.concat(extra.get(i), 0), ids);
        }
        long vocab = weightShape()[0];
        long count = extraTable.getShape().get(0);
        NDArray isAdded = ids.gte(vocab);
        NDArray baseIds = ids.clip(0, vocab - 1);
        NDArray addedIds = ids.sub(vocab).clip(0, count - 1);
        NDArray base = baseIds.getNDArrayInternal().embedding(baseIds, w, SparseFormat.DENSE).singletonOrThrow();
        NDArray mine = addedIds.getNDArrayInternal().embedding(addedIds, extraTable, SparseFormat.DENSE)
                .singletonOrThrow();
        return ai.djl.ndarray.NDArrays.where(isAdded.expandDims(-1).broadcast(base.getShape()), mine, base);
    }
}
