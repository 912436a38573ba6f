//! Native equivalents of the chatty scenarios: the same work with no interpreter in between, so
//! what a scenario costs above its equivalent here is the price of the crossing (C API, PyO3,
//! object model). Each function is the body of one bench in `benches/native.rs`, where inputs are
//! prepared outside the timed loop as a scenario's `setup` prepares them.
//!
//! `black_box` goes where the optimiser could otherwise see through the operation: on a callee it
//! must call indirectly, on an object it must read again, on each result it could drop.

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;

use crate::kernels::byte_sum;

/// Runs `op` `n` times and returns the last result (`None` for n = 0), each result kept with
/// `black_box`: the shape of every "do it n times inside one call" scenario.
pub fn repeat<R>(n: usize, mut op: impl FnMut() -> R) -> Option<R> {
    let mut last = None;
    for _ in 0..n {
        last = Some(black_box(op()));
    }
    last
}

/// Sums by index, each read checked as `PyList_GetItem(list, i)` is (`None` where it would return
/// NULL): the floor of the item-by-item list and tuple sums.
pub fn slice_sum_index(xs: &[i64]) -> Option<i64> {
    let mut sum = 0i64;
    for i in 0..xs.len() {
        sum = sum.wrapping_add(*xs.get(i)?);
    }
    Some(sum)
}

/// Sums with the slice iterator: the floor of the list and tuple sums through PyO3's iterators.
pub fn slice_sum_iter(xs: &[i64]) -> i64 {
    xs.iter().fold(0, |sum, &x| sum.wrapping_add(x))
}

/// `n` clones of one `Rc` in a new `Vec`: a non-atomic count increment and a store per item, as
/// filling a list with one object is (the GIL makes CPython's increments non-atomic too).
pub fn vec_of_clones<T>(item: &Rc<T>, n: usize) -> Vec<Rc<T>> {
    (0..n).map(|_| Rc::clone(item)).collect()
}

/// `n` clones of one `Rc`, each dropped at once: a non-atomic increment and decrement per
/// operation, as an inline Py_INCREF/Py_DECREF pair is.
pub fn rc_clone_drop<T>(item: &Rc<T>, n: usize) -> usize {
    for _ in 0..n {
        drop(black_box(Rc::clone(black_box(item))));
    }
    n
}

/// Calls `cb(arg)` `n` times through a `&dyn Fn` the optimiser cannot resolve: the floor of
/// calling a Python callback with one argument.
pub fn call_dyn_one_arg(cb: &dyn Fn(i64) -> i64, arg: i64, n: usize) -> Option<i64> {
    let cb = black_box(cb);
    repeat(n, || cb(black_box(arg)))
}

/// Calls `cb(arg, arg, arg)` `n` times through a `&dyn Fn`: the floor of calling a Python
/// callback with three arguments.
pub fn call_dyn_three_args(cb: &dyn Fn(i64, i64, i64) -> i64, arg: i64, n: usize) -> Option<i64> {
    let cb = black_box(cb);
    repeat(n, || cb(black_box(arg), black_box(arg), black_box(arg)))
}

/// Calls `cb()` `n` times through a `&dyn Fn`: the floor of calling a callback with no arguments.
pub fn call_dyn_no_args(cb: &dyn Fn(), n: usize) -> Option<()> {
    let cb = black_box(cb);
    repeat(n, cb)
}

/// What `call_no_args` calls: nothing to do.
pub fn no_args() {}

/// What `call_three_ints` computes.
pub fn three_ints(a: i64, b: i64, c: i64) -> i64 {
    a.wrapping_add(b).wrapping_add(c)
}

/// Calls `f` through a function pointer the optimiser cannot see through: the floor of calling a
/// no-argument function from Python (`f` = `no_args`).
pub fn call_no_args_ptr(f: fn()) {
    black_box(f)()
}

/// The same with three `i64` arguments, each opaque: the floor of `f(1, 2, 3)` (`f` = `three_ints`).
pub fn call_three_ints_ptr(f: fn(i64, i64, i64) -> i64, a: i64, b: i64, c: i64) -> i64 {
    black_box(f)(black_box(a), black_box(b), black_box(c))
}

/// The `#[pyclass]` of the calls_in scenarios, as plain Rust.
pub struct Counter {
    pub value: i64,
}

impl Counter {
    pub fn incr(&mut self) {
        self.value += 1;
    }
}

/// `method(&mut counter)` through a function pointer, behind the `RefCell` borrow-flag check that
/// PyO3 makes for a `&mut self` method: the floor of `o.incr()`.
pub fn refcell_method_call(cell: &RefCell<Counter>, method: fn(&mut Counter)) {
    black_box(method)(&mut black_box(cell).borrow_mut());
}

/// A field read behind the `RefCell` shared-borrow check, as PyO3's `#[pyo3(get)]` makes it: the
/// floor of `o.value`.
pub fn refcell_field_read(cell: &RefCell<Counter>) -> i64 {
    black_box(cell).borrow().value
}

/// A type descriptor, for `Object` to point at as `ob_type` does.
pub struct Type {
    pub name: &'static str,
}

/// An object with a header as CPython's variable-size objects have: a type pointer and a length.
pub struct Object {
    pub ty: &'static Type,
    pub items: Vec<i64>,
}

/// Reads the type pointer `n` times: the floor of `Py_TYPE` / `PyObject_Type`.
pub fn read_type(obj: &Object, n: usize) -> Option<&'static Type> {
    repeat(n, || black_box(obj).ty)
}

/// Reads the length `n` times: the floor of `Py_SIZE` / `PyObject_Size`.
pub fn read_len(obj: &Object, n: usize) -> Option<usize> {
    repeat(n, || black_box(obj).items.len())
}

/// Sums bytes borrowed from their owner (a `&str` from a `String`, a `&[u8]` from a `Vec`): the
/// floor of every borrowing str and bytes scenario, which all return this sum.
pub fn borrowed_byte_sum(bytes: &[u8]) -> u64 {
    byte_sum(black_box(bytes).iter().copied())
}

/// Copies a `&str` into a new `String`, then sums its bytes: the floor of `extract::<String>()`.
pub fn copied_byte_sum(s: &str) -> u64 {
    byte_sum(black_box(s.to_owned()).bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_agree_and_index_sum_checks_bounds() {
        let xs: Vec<i64> = (0..1000).collect();
        assert_eq!(slice_sum_index(&xs), Some(499_500));
        assert_eq!(slice_sum_iter(&xs), 499_500);
        assert_eq!(slice_sum_index(&[]), Some(0));
    }

    #[test]
    fn clones_share_one_allocation_and_give_it_back() {
        let item = Rc::new(12345);
        let v = vec_of_clones(&item, 1000);
        assert_eq!((v.len(), Rc::strong_count(&item)), (1000, 1001));
        drop(v);
        assert_eq!(Rc::strong_count(&item), 1);
    }

    #[test]
    fn repeated_calls_run_n_times_and_return_the_last() {
        let calls = std::cell::Cell::new(0);
        assert_eq!(call_dyn_one_arg(&|x| x + calls.replace(calls.get() + 1), 10, 100), Some(109));
        assert_eq!(call_dyn_no_args(&|| calls.set(calls.get() + 1), 100), Some(()));
        assert_eq!(calls.get(), 200);
        assert_eq!(repeat(0, || 1), None);
    }

    #[test]
    fn calls_and_reads_do_the_work() {
        assert_eq!(call_three_ints_ptr(three_ints, 1, 2, 3), 6);
        call_no_args_ptr(no_args);
        let cell = RefCell::new(Counter { value: 0 });
        refcell_method_call(&cell, Counter::incr);
        assert_eq!(refcell_field_read(&cell), 1);
        static LIST: Type = Type { name: "list" };
        let obj = Object { ty: &LIST, items: vec![0; 10] };
        assert_eq!(read_type(&obj, 3).map(|t| t.name), Some("list"));
        assert_eq!(read_len(&obj, 3), Some(10));
    }

    #[test]
    fn byte_sums_match_borrowed_or_copied() {
        let s = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";
        assert_eq!(borrowed_byte_sum(s.as_bytes()), copied_byte_sum(s));
        assert_eq!(borrowed_byte_sum(&[1, 2, 255]), 258);
    }
}
