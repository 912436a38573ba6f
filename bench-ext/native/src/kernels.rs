//! Compute kernels, free of PyO3, so the native benches time exactly what the `compute` scenarios
//! call through Python.

/// Sum of the bytes, so that reading a string or buffer cannot be optimised away.
pub fn byte_sum(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().map(u64::from).sum()
}

/// Total escape-iteration count of a `size` x `size` grid over [-2, 1] x [-1.5, 1.5], each point
/// iterated at most `max_iter` times: branchy scalar floating point.
pub fn mandelbrot(size: u32, max_iter: u32) -> u64 {
    let step = 3.0 / f64::from(size.max(1));
    let mut total = 0u64;
    for y in 0..size {
        let ci = -1.5 + f64::from(y) * step;
        for x in 0..size {
            let cr = -2.0 + f64::from(x) * step;
            let (mut zr, mut zi) = (0.0f64, 0.0f64);
            let mut i = 0;
            while i < max_iter && zr * zr + zi * zi <= 4.0 {
                (zr, zi) = (zr * zr - zi * zi + cr, 2.0 * zr * zi + ci);
                i += 1;
            }
            total += u64::from(i);
        }
    }
    total
}

const SOLAR_MASS: f64 = 4.0 * std::f64::consts::PI * std::f64::consts::PI;
const DAYS_PER_YEAR: f64 = 365.24;

#[derive(Clone, Copy)]
struct Body {
    pos: [f64; 3],
    vel: [f64; 3],
    mass: f64,
}

/// The Sun and the four gas giants, as in the Computer Language Benchmarks Game.
fn solar_system() -> [Body; 5] {
    let body = |pos: [f64; 3], vel: [f64; 3], mass: f64| Body {
        pos,
        vel: vel.map(|v| v * DAYS_PER_YEAR),
        mass: mass * SOLAR_MASS,
    };
    let mut bodies = [
        body([0.0; 3], [0.0; 3], 1.0),
        body(
            [4.841_431_442_464_72, -1.160_320_044_027_428_4, -0.103_622_044_471_123_11],
            [1.660_076_642_744_037e-3, 7.699_011_184_197_404e-3, -6.904_600_169_720_63e-5],
            9.547_919_384_243_266e-4,
        ),
        body(
            [8.343_366_718_244_58, 4.124_798_564_124_305, -0.403_523_417_114_321_4],
            [-2.767_425_107_268_624e-3, 4.998_528_012_349_172e-3, 2.304_172_975_737_639_3e-5],
            2.858_859_806_661_308e-4,
        ),
        body(
            [12.894_369_562_139_131, -15.111_151_401_698_631, -0.223_307_578_892_655_73],
            [2.964_601_375_647_616e-3, 2.378_471_739_594_809_5e-3, -2.965_895_685_402_375_6e-5],
            4.366_244_043_351_563e-5,
        ),
        body(
            [15.379_697_114_850_917, -25.919_314_609_987_964, 0.179_258_772_950_371_18],
            [2.680_677_724_903_893_2e-3, 1.628_241_700_382_423e-3, -9.515_922_545_197_159e-5],
            5.151_389_020_466_114_5e-5,
        ),
    ];
    // Give the Sun the momentum that makes the system's total zero.
    let mut momentum = [0.0; 3];
    for b in &bodies {
        for (p, v) in momentum.iter_mut().zip(b.vel) {
            *p += v * b.mass;
        }
    }
    bodies[0].vel = momentum.map(|p| -p / SOLAR_MASS);
    bodies
}

fn energy(bodies: &[Body]) -> f64 {
    let mut e = 0.0;
    for (i, a) in bodies.iter().enumerate() {
        e += 0.5 * a.mass * a.vel.iter().map(|v| v * v).sum::<f64>();
        for b in &bodies[i + 1..] {
            let d2: f64 = (0..3).map(|k| (a.pos[k] - b.pos[k]).powi(2)).sum();
            e -= a.mass * b.mass / d2.sqrt();
        }
    }
    e
}

/// Energy of the five-body system after `steps` symplectic-Euler steps of 0.01 days: dense floating
/// point with a square root per body pair.
pub fn nbody_energy(steps: u32) -> f64 {
    const DT: f64 = 0.01;
    let mut bodies = solar_system();
    for _ in 0..steps {
        for i in 0..bodies.len() {
            let (head, tail) = bodies.split_at_mut(i + 1);
            let a = &mut head[i];
            for b in tail {
                let d: [f64; 3] = std::array::from_fn(|k| a.pos[k] - b.pos[k]);
                let d2 = d.iter().map(|x| x * x).sum::<f64>();
                let mag = DT / (d2 * d2.sqrt());
                let (a_pull, b_pull) = (b.mass * mag, a.mass * mag);
                for ((av, bv), dk) in a.vel.iter_mut().zip(&mut b.vel).zip(d) {
                    *av -= dk * a_pull;
                    *bv += dk * b_pull;
                }
            }
        }
        for b in &mut bodies {
            for (p, v) in b.pos.iter_mut().zip(b.vel) {
                *p += DT * v;
            }
        }
    }
    energy(&bodies)
}

/// 64-bit FNV-1a hash: a serial multiply chain, one byte at a time.
pub fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}
