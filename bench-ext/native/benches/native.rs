//! The native floors: one criterion bench per floor, in group `native`, whose id is the name a
//! scenario gives in its `native` field. One iteration does what one execution of those scenarios'
//! `stmt` does, on inputs of the same size; `Throughput::Elements(n)` records the operations in it,
//! and the runner divides criterion's per-iteration estimate by that `n` (refusing a floor whose
//! `n` differs from its scenario's).
//!
//! `cargo bench -p bench-native` runs them with criterion's defaults (3 s warm-up, 5 s of samples,
//! 100 samples each); `abibench native` runs them and records the estimates for `compare --native`.

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;

use bench_native::chatty::{self, Counter, Object, Type};
use bench_native::kernels;
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

/// Items per list or tuple, and reads per object call: `n` in scenarios/containers.toml and
/// scenarios/objects.toml.
const ITEMS: u64 = 1000;
/// Callbacks per call: `n` in scenarios/calls_out.toml.
const CALLBACKS: u64 = 100;
/// The str of scenarios/strings.toml (`'a..zA..Z'[:48]`); its bytes objects are 48 bytes too.
const TEXT: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const TEXT_LEN: usize = 48;

/// Benches `op` as floor `id`, one iteration being `n` operations.
fn floor<R>(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, n: u64, mut op: impl FnMut() -> R) {
    g.throughput(Throughput::Elements(n));
    g.bench_function(id, |b| b.iter(&mut op));
}

/// scenarios/compute.toml: the kernels with the scenarios' arguments, one call per iteration.
fn compute(g: &mut BenchmarkGroup<'_, WallTime>) {
    floor(g, "mandelbrot_small", 1, || kernels::mandelbrot(black_box(16), black_box(50)));
    floor(g, "mandelbrot_large", 1, || kernels::mandelbrot(black_box(140), black_box(200)));
    floor(g, "nbody_small", 1, || kernels::nbody_energy(black_box(10)));
    floor(g, "nbody_large", 1, || kernels::nbody_energy(black_box(50_000)));
    // `bytes(range(256))`, and that repeated 8192 times (2 MiB).
    let small: Vec<u8> = (0..=255).collect();
    let large = small.repeat(8192);
    floor(g, "fnv1a64_small", 1, || kernels::fnv1a64(black_box(&small)));
    floor(g, "fnv1a64_large", 1, || kernels::fnv1a64(black_box(&large)));
}

/// scenarios/containers.toml: `list(range(n))` summed, and a list of n references built.
fn containers(g: &mut BenchmarkGroup<'_, WallTime>) {
    let xs: Vec<i64> = (0..ITEMS as i64).collect();
    floor(g, "slice_sum_index", ITEMS, || chatty::slice_sum_index(black_box(&xs)));
    floor(g, "slice_sum_iter", ITEMS, || chatty::slice_sum_iter(black_box(&xs)));
    let item = Rc::new(12345i64);
    floor(g, "vec_of_rc_clones", ITEMS, || chatty::vec_of_clones(black_box(&item), ITEMS as usize));
    // scenarios/refcount.toml: an increment and a decrement per operation.
    floor(g, "rc_clone_drop", ITEMS, || chatty::rc_clone_drop(&item, ITEMS as usize));
}

/// scenarios/objects.toml: header reads on a 10-item list.
fn objects(g: &mut BenchmarkGroup<'_, WallTime>) {
    static LIST: Type = Type { name: "list" };
    let obj = Object { ty: &LIST, items: vec![0; 10] };
    floor(g, "type_tag_read", ITEMS, || chatty::read_type(&obj, ITEMS as usize));
    floor(g, "len_read", ITEMS, || chatty::read_len(&obj, ITEMS as usize));
}

/// scenarios/calls_out.toml: `def cb(x): return x`, `def cb(x, y, z): return x` and `def cb(): return None`, n calls each.
fn calls_out(g: &mut BenchmarkGroup<'_, WallTime>) {
    floor(g, "dyn_fn_call_one_arg", CALLBACKS, || chatty::call_dyn_one_arg(&|x| x, 1, CALLBACKS as usize));
    floor(g, "dyn_fn_call_no_args", CALLBACKS, || chatty::call_dyn_no_args(&|| (), CALLBACKS as usize));
    floor(g, "dyn_fn_call_three_args", CALLBACKS, || chatty::call_dyn_three_args(&|x, _, _| x, 1, CALLBACKS as usize));
}

/// scenarios/calls_in.toml: one call per iteration.
fn calls_in(g: &mut BenchmarkGroup<'_, WallTime>) {
    floor(g, "fn_ptr_call_no_args", 1, || chatty::call_no_args_ptr(chatty::no_args));
    floor(g, "fn_ptr_call_three_ints", 1, || chatty::call_three_ints_ptr(chatty::three_ints, 1, 2, 3));
    let counter = RefCell::new(Counter { value: 0 });
    floor(g, "refcell_method_call", 1, || chatty::refcell_method_call(&counter, Counter::incr));
    floor(g, "refcell_field_read", 1, || chatty::refcell_field_read(&counter));
}

/// scenarios/strings.toml: one 48-byte str or bytes read per iteration.
fn strings(g: &mut BenchmarkGroup<'_, WallTime>) {
    let owned = TEXT[..TEXT_LEN].to_string();
    floor(g, "borrowed_byte_sum", 1, || chatty::borrowed_byte_sum(owned.as_bytes()));
    floor(g, "copied_byte_sum", 1, || chatty::copied_byte_sum(&owned));
}

fn native(c: &mut Criterion) {
    let mut g = c.benchmark_group("native");
    compute(&mut g);
    containers(&mut g);
    objects(&mut g);
    calls_out(&mut g);
    calls_in(&mut g);
    strings(&mut g);
    g.finish();
}

criterion_group!(benches, native);
criterion_main!(benches);
