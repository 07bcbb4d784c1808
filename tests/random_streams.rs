use tensorlift as tl;

#[test]
fn smoke() {
    let rs = tl::RandomStreams::new(42);
    let u = rs.uniform([3, 4], 0.0, 1.0);
    u.check().unwrap();
    let f = tl::function::<tl::Var, _>(&[], &[&u]).unwrap();
    let a = f.call(&[]).unwrap().remove(0);
    let b = f.call(&[]).unwrap().remove(0);
    println!("{a}\n{b}");
    println!("{}", f.debugprint());
    println!("{}", tl::pp(&u));
    assert_ne!(a, b);
}
