use tensorlift as tl;
fn main() {
    let rs = tl::RandomStreams::new(1);
    let u = rs.uniform(10_000_000, 0.0, 1.0);
    tl::set_num_threads(1);
    let f = tl::Function::builder::<tl::Var, _>(&[], &[&u]).mode(tl::Mode::Jit).build().unwrap();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let r = f.call(&[]).unwrap();
        println!("uniform {:?}", t.elapsed());
        drop(r);
    }
    let s = tl::shared(vec![1i64, 0], "s");
    let g = tl::kernels::random::Philox::new([1, 0], 0);
    let t = std::time::Instant::now();
    let mut acc = 0u32;
    for b in 0..5_000_000u64 {
        acc ^= g.block(b, 0)[0];
    }
    println!("scalar blocks 5e6 {:?} {acc}", t.elapsed());
    drop(s);
}
