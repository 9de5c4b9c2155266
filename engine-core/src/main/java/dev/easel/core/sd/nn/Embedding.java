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
        NDArray table = w;
        List<NDArray> extra;
        synchronized (this) {
            extra = List.copyOf(added);
        }
        for (NDArray rows : extra) {
            table = Ops.local(table.concat(rows, 0), ids);
        }
        return ids.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }
}
