/**
 * The LyCORIS adapter family and kohya's OFT, one {@link dev.easel.api.adapter.AdapterType} per algorithm:
 * {@code lycoris/locon}, {@code lycoris/loha}, {@code lycoris/lokr}, {@code lycoris/ia3}, {@code lycoris/dora},
 * {@code lycoris/oft}, {@code kohya/oft}, {@code lycoris/boft}, {@code lycoris/glora}, {@code lycoris/full},
 * {@code lycoris/norm}. Where LyCORIS, A1111 and ComfyUI disagree (DoRA axis and strength, OFT constraint, GLoRA
 * layout), the choice is a parameter whose default follows LyCORIS itself.
 */
package dev.easel.plugins.adapter.lycoris;
