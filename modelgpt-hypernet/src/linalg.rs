//! Small dense linear algebra on the host (`f64`, row-major) for the closed-form parts of the
//! generators: Cholesky factorisation, solves and the inverse of symmetric positive definite
//! matrices. Inner loops are contiguous dot products with independent accumulators, which the
//! compiler vectorises; the `O(d³)` parts (the trailing updates of the blocked factorisation and
//! the product of the inverse) go through the `gemm` crate (the matrix kernels burn's CPU backend
//! uses), the only `unsafe` code of the workspace, in two small functions whose bounds are
//! checked before the call.

/// `Σ a_i b_i` with four independent accumulators.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f64; 4];
    let chunks = n / 4;
    for c in 0..chunks {
        let i = 4 * c;
        acc[0] += a[i] * b[i];
        acc[1] += a[i + 1] * b[i + 1];
        acc[2] += a[i + 2] * b[i + 2];
        acc[3] += a[i + 3] * b[i + 3];
    }
    let mut tail = 0.0;
    for i in 4 * chunks..n {
        tail += a[i] * b[i];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Block size of the blocked Cholesky factorisation.
const BLOCK: usize = 64;

/// `c ← c − a aᵀ` for the `m × m` block of `buf` at `c_at` (row stride `stride`) and the
/// `m × b` block `a` at `a_at` (same stride), through the `gemm` crate's runtime-dispatched
/// (AVX-512 or AVX2/FMA where available), multi-threaded kernels.
///
/// # Panics
/// If either block does not lie inside `buf`, or the blocks overlap.
#[allow(unsafe_code)]
fn sub_aat(
    buf: &mut [f64],
    stride: usize,
    c_at: (usize, usize),
    a_at: (usize, usize),
    m: usize,
    b: usize,
) {
    if m == 0 || b == 0 {
        return;
    }
    let (cr, cc) = c_at;
    let (ar, ac) = a_at;
    // Both blocks inside the buffer: their last elements are in bounds and every row fits the
    // stride.
    assert!(
        cc + m <= stride && ac + b <= stride,
        "block wider than the row stride"
    );
    assert!(
        (cr + m - 1) * stride + cc + m <= buf.len(),
        "c block out of bounds"
    );
    assert!(
        (ar + m - 1) * stride + ac + b <= buf.len(),
        "a block out of bounds"
    );
    // The column ranges are disjoint (a lies left of c), so the blocks do not overlap.
    assert!(ac + b <= cc || cc + m <= ac, "blocks overlap");
    let s = stride as isize;
    let base = buf.as_mut_ptr();
    // SAFETY: the asserts above keep every element gemm reads or writes (rows `cr..cr+m` ×
    // columns `cc..cc+m` written, rows `ar..ar+m` × columns `ac..ac+b` read) inside `buf`, and
    // the written and read blocks are disjoint, so the read-only alias never sees a write. Both
    // pointers come from the one `&mut` borrow held for the whole call.
    unsafe {
        let dst = base.add(cr * stride + cc);
        let lhs = base.add(ar * stride + ac).cast_const();
        gemm::gemm(
            m,
            m,
            b,
            dst,
            1,
            s,
            true,
            lhs,
            1,
            s,
            lhs,
            s,
            1,
            1.0,
            -1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
}

/// Adds `Cᵀ C` to `acc` (`d × d`, row-major) for the `rows × d` row-major `c`: one blocked,
/// parallel matrix product (gemm), so that a covariance over many rows costs what the product
/// costs rather than a scalar loop over rows.
#[allow(unsafe_code)]
pub(crate) fn add_gram(acc: &mut [f64], c: &[f64], rows: usize, d: usize) {
    assert!(acc.len() >= d * d, "acc holds fewer than d × d values");
    assert!(c.len() >= rows * d, "c holds fewer than rows × d values");
    if d == 0 || rows == 0 {
        return;
    }
    let s = d as isize;
    // SAFETY: `acc` (read and written) and `c` (read) are distinct allocations holding at least
    // `d × d` and `rows × d` values; gemm touches exactly those elements at these strides
    // (`Cᵀ` is `c` read with the strides swapped).
    unsafe {
        gemm::gemm(
            d,
            d,
            rows,
            acc.as_mut_ptr(),
            1,
            s,
            true,
            c.as_ptr(),
            s,
            1,
            c.as_ptr(),
            1,
            s,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
}

/// `Xᵀ X` for a `d × d` row-major `x`.
#[allow(unsafe_code)]
fn gram_t(x: &[f64], d: usize) -> Vec<f64> {
    assert!(x.len() >= d * d, "x holds fewer than d × d values");
    let mut out = vec![0f64; d * d];
    if d == 0 {
        return out;
    }
    let s = d as isize;
    // SAFETY: `out` (written) and `x` (read) are distinct allocations of at least `d × d`
    // values, and gemm touches exactly the `d × d` elements of each at these strides.
    unsafe {
        gemm::gemm(
            d,
            d,
            d,
            out.as_mut_ptr(),
            1,
            s,
            false,
            x.as_ptr(),
            s,
            1,
            x.as_ptr(),
            1,
            s,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
    out
}

/// Lower Cholesky factor `L` (`d × d`, row-major, `A = L Lᵀ`) of a symmetric positive definite
/// `a` (only its lower triangle is read); `None` if `a` is not positive definite.
///
/// Blocked and right-looking: each block of [`BLOCK`] columns is factored in place, the rows
/// below it are solved against it, and the trailing matrix is updated by one matrix product.
pub(crate) fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = a[..d * d].to_vec();
    let mut kb = 0;
    while kb < d {
        let b = BLOCK.min(d - kb);
        // The diagonal block (its entries already hold the updates of the blocks before).
        for i in kb..kb + b {
            for j in kb..=i {
                let s = l[i * d + j] - dot(&l[i * d + kb..i * d + j], &l[j * d + kb..j * d + j]);
                if i == j {
                    if s <= 0.0 || !s.is_finite() {
                        return None;
                    }
                    l[i * d + i] = s.sqrt();
                } else {
                    l[i * d + j] = s / l[j * d + j];
                }
            }
        }
        // The rows below it: L21 = A21 L11⁻ᵀ.
        for i in kb + b..d {
            let (head, tail) = l.split_at_mut(i * d);
            let row = &mut tail[..d];
            for j in kb..kb + b {
                let s = row[j] - dot(&row[kb..j], &head[j * d + kb..j * d + j]);
                row[j] = s / head[j * d + j];
            }
        }
        // The trailing matrix: A22 ← A22 − L21 L21ᵀ.
        sub_aat(&mut l, d, (kb + b, kb + b), (kb + b, kb), d - kb - b, b);
        kb += b;
    }
    for i in 0..d {
        l[i * d + i + 1..(i + 1) * d].fill(0.0);
    }
    if l.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(l)
}

/// Solves `L Lᵀ X = B` for the `k` right-hand sides stored as rows of `b` (`k × d`); returns `X`
/// as rows. Both substitutions read rows of `L` (the backward one as `axpy` updates), so no
/// transpose is formed.
pub(crate) fn cholesky_solve_rows(l: &[f64], d: usize, b: &[f64], k: usize) -> Vec<f64> {
    let mut out = vec![0f64; k * d];
    for r in 0..k {
        let rhs = &b[r * d..(r + 1) * d];
        let y = &mut out[r * d..(r + 1) * d];
        for i in 0..d {
            y[i] = (rhs[i] - dot(&l[i * d..i * d + i], &y[..i])) / l[i * d + i];
        }
        for i in (0..d).rev() {
            let xi = y[i] / l[i * d + i];
            y[i] = xi;
            for (yj, lij) in y[..i].iter_mut().zip(&l[i * d..i * d + i]) {
                *yj -= lij * xi;
            }
        }
    }
    out
}

/// Solves `A X = B` for symmetric positive definite `A` (`d × d`) and `k` right-hand sides
/// stored as rows (`k × d`); returns `X` as rows, or `None` if `A` is not positive definite.
pub(crate) fn cholesky_solve(a: &[f64], d: usize, b: &[f64], k: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, d)?;
    Some(cholesky_solve_rows(&l, d, b, k))
}

/// Inverse of a symmetric positive definite `a` (`d × d`), or `None`: `A⁻¹ = L⁻ᵀ L⁻¹`, with
/// the rows of the lower triangular `L⁻¹` built by forward substitution and the product by one
/// matrix multiplication.
pub(crate) fn inverse_spd(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, d)?;
    // Row i of M = L⁻¹: (e_i − Σ_{j<i} L_ij M_j) / L_ii, non-zero in columns ≤ i.
    let mut m = vec![0f64; d * d];
    for i in 0..d {
        let (done, rest) = m.split_at_mut(i * d);
        let row = &mut rest[..d];
        for j in 0..i {
            let lij = l[i * d + j];
            if lij != 0.0 {
                for (x, mj) in row[..=j].iter_mut().zip(&done[j * d..j * d + j + 1]) {
                    *x -= lij * mj;
                }
            }
        }
        row[i] += 1.0;
        let inv = 1.0 / l[i * d + i];
        row[..=i].iter_mut().for_each(|x| *x *= inv);
    }
    Some(gram_t(&m, d))
}

/// Eigen-decomposition of a symmetric `a` (`d × d`, row-major) by cyclic Jacobi rotations:
/// the eigenvalues in decreasing order and the matching unit eigenvectors as rows (`d × d`).
/// Meant for the small matrices of the generators (patch covariances, `d` up to a few hundred).
pub(crate) fn symmetric_eigen(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a[..d * d].to_vec();
    // v holds the eigenvectors as columns while rotating.
    let mut v = vec![0f64; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    let scale: f64 = m.iter().map(|x| x * x).sum::<f64>().max(1e-300);
    for _sweep in 0..64 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * d + j] * m[i * d + j])
            .sum();
        if off <= 1e-22 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = m[p * d + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q * d + q] - m[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (mkp, mkq) = (m[k * d + p], m[k * d + q]);
                    m[k * d + p] = c * mkp - s * mkq;
                    m[k * d + q] = s * mkp + c * mkq;
                }
                for k in 0..d {
                    let (mpk, mqk) = (m[p * d + k], m[q * d + k]);
                    m[p * d + k] = c * mpk - s * mqk;
                    m[q * d + k] = s * mpk + c * mqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| m[j * d + j].total_cmp(&m[i * d + i]));
    let values = order.iter().map(|&i| m[i * d + i]).collect();
    let mut vectors = vec![0f64; d * d];
    for (r, &i) in order.iter().enumerate() {
        for k in 0..d {
            vectors[r * d + k] = v[k * d + i];
        }
    }
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_gram_accumulates_the_products_of_row_blocks() {
        let (rows, d) = (37, 5);
        let c: Vec<f64> = (0..rows * d)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let naive = |from: usize, to: usize| -> Vec<f64> {
            let mut out = vec![0f64; d * d];
            for r in from..to {
                for i in 0..d {
                    for j in 0..d {
                        out[i * d + j] += c[r * d + i] * c[r * d + j];
                    }
                }
            }
            out
        };
        // Two blocks of rows added into one accumulator: the product of all rows.
        let mut acc = vec![0f64; d * d];
        add_gram(&mut acc, &c[..20 * d], 20, d);
        add_gram(&mut acc, &c[20 * d..], rows - 20, d);
        for (a, b) in acc.iter().zip(naive(0, rows)) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
        add_gram(&mut acc, &c, 0, d);
        assert!(
            acc.iter()
                .zip(naive(0, rows))
                .all(|(a, b)| (a - b).abs() < 1e-10)
        );
    }

    #[test]
    fn solve_and_inverse_agree_with_a_known_system() {
        let a = [4.0, 2.0, 0.5, 2.0, 3.0, 0.25, 0.5, 0.25, 2.0];
        let x = cholesky_solve(&a, 3, &[1.0, 2.0, 3.0], 1).unwrap();
        for i in 0..3 {
            let ax: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert!((ax - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let inv = inverse_spd(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|p| a[i * 3 + p] * inv[p * 3 + j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[-1.0], 1).is_none());
        // Eigenpairs: A v = λ v, decreasing λ, unit vectors.
        let (vals, vecs) = symmetric_eigen(&a, 3);
        assert!(vals[0] >= vals[1] && vals[1] >= vals[2]);
        for r in 0..3 {
            let v = &vecs[r * 3..(r + 1) * 3];
            assert!((dot(v, v) - 1.0).abs() < 1e-10);
            for i in 0..3 {
                let av: f64 = (0..3).map(|j| a[i * 3 + j] * v[j]).sum();
                assert!(
                    (av - vals[r] * v[i]).abs() < 1e-9,
                    "{av} vs {}",
                    vals[r] * v[i]
                );
            }
        }
        assert_eq!(dot(&[1.0; 7], &[2.0; 7]), 14.0);
    }

    /// A random symmetric positive definite `d × d` matrix: `Xᵀ X / n + 0.1 I`.
    fn random_spd(d: usize, seed: u64) -> Vec<f64> {
        let n = d + 7;
        let mut s = seed;
        let x: Vec<f64> = (0..n * d)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (s >> 33) as f64 / (1u64 << 31) as f64 - 0.5
            })
            .collect();
        let mut a = vec![0f64; d * d];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..n).map(|r| x[r * d + i] * x[r * d + j]).sum::<f64>() / n as f64;
            }
            a[i * d + i] += 0.1;
        }
        a
    }

    #[test]
    fn blocked_factorisation_solves_and_inverts_across_block_edges() {
        // Sizes below, at and across the block size (one, several and ragged blocks).
        for d in [1, 5, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 17] {
            let a = random_spd(d, d as u64);
            let l = cholesky(&a, d).unwrap();
            for i in 0..d {
                for j in 0..d {
                    let llt = dot(&l[i * d..(i + 1) * d], &l[j * d..(j + 1) * d]);
                    assert!((llt - a[i * d + j]).abs() < 1e-10, "d={d} ({i},{j})");
                    if j > i {
                        assert_eq!(l[i * d + j], 0.0);
                    }
                }
            }
            let b: Vec<f64> = (0..2 * d).map(|i| (i % 7) as f64 - 3.0).collect();
            let x = cholesky_solve_rows(&l, d, &b, 2);
            let inv = inverse_spd(&a, d).unwrap();
            for r in 0..2 {
                for i in 0..d {
                    let ax = dot(&a[i * d..(i + 1) * d], &x[r * d..(r + 1) * d]);
                    assert!((ax - b[r * d + i]).abs() < 1e-8, "d={d} solve");
                    let ainv = dot(&inv[i * d..(i + 1) * d], &b[r * d..(r + 1) * d]);
                    assert!((ainv - x[r * d + i]).abs() < 1e-8, "d={d} inverse");
                }
            }
        }
        // Not positive definite beyond the first block.
        let d = BLOCK + 3;
        let mut a = random_spd(d, 3);
        a[(d - 1) * d + d - 1] = -1.0;
        assert!(cholesky(&a, d).is_none());
    }
}
