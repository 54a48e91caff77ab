//! Small dense linear algebra on the host (`f64`, row-major) for the closed-form parts of the
//! generators: Cholesky factorisation, solves and the inverse of symmetric positive definite
//! matrices. Inner loops are contiguous dot products with independent accumulators, which the
//! compiler vectorises.

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

/// Lower Cholesky factor `L` (`d × d`, row-major, `A = L Lᵀ`) of a symmetric positive definite
/// `a`; `None` if `a` is not positive definite.
pub(crate) fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s = a[i * d + j] - dot(&l[i * d..i * d + j], &l[j * d..j * d + j]);
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
    Some(l)
}

/// Solves `L Lᵀ X = B` for the `k` right-hand sides stored as rows of `b` (`k × d`); returns `X`
/// as rows.
pub(crate) fn cholesky_solve_rows(l: &[f64], d: usize, b: &[f64], k: usize) -> Vec<f64> {
    // Lᵀ row-major makes the backward substitution contiguous too.
    let mut lt = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            lt[j * d + i] = l[i * d + j];
        }
    }
    let mut out = vec![0f64; k * d];
    let mut y = vec![0f64; d];
    for r in 0..k {
        let rhs = &b[r * d..(r + 1) * d];
        for i in 0..d {
            y[i] = (rhs[i] - dot(&l[i * d..i * d + i], &y[..i])) / l[i * d + i];
        }
        let x = &mut out[r * d..(r + 1) * d];
        for i in (0..d).rev() {
            let s = dot(&lt[i * d + i + 1..(i + 1) * d], &x[i + 1..]);
            x[i] = (y[i] - s) / l[i * d + i];
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

/// Inverse of a symmetric positive definite `a` (`d × d`), or `None`.
pub(crate) fn inverse_spd(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, d)?;
    let mut eye = vec![0f64; d * d];
    for i in 0..d {
        eye[i * d + i] = 1.0;
    }
    // A⁻¹ is symmetric: its rows are the solutions for the rows of I.
    Some(cholesky_solve_rows(&l, d, &eye, d))
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
}
