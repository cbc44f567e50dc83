// Zipf: ranks 0..n-1 drawn with P(rank k) proportional to 1 / (k + 1)^theta, in O(1) a draw after
// an O(n) setup (Gray et al., "Quickly generating billion-record synthetic databases", SIGMOD
// 1994, as YCSB's ZipfianGenerator). Rank 0 is the hottest.
// Thread-safety: const after construction; Next() mutates only the caller's engine.
#ifndef WALCACHE_TOOLS_ZIPF_H_
#define WALCACHE_TOOLS_ZIPF_H_

#include <cmath>
#include <cstdint>
#include <random>

namespace walcache::tools {

class Zipf {
 public:
  // REQUIRES: n >= 2, 0 < theta < 1.
  Zipf(uint64_t n, double theta) : n_(n), theta_(theta) {
    double zeta2 = 0;
    for (uint64_t i = 1; i <= n; ++i) {
      const double t = 1.0 / std::pow(static_cast<double>(i), theta);
      zetan_ += t;
      if (i <= 2) zeta2 += t;
    }
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
  }

  template <typename Rng>
  uint64_t Next(Rng& rng) const {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
    const auto k =
        static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return k < n_ ? k : n_ - 1;
  }

 private:
  uint64_t n_;
  double theta_;
  double zetan_ = 0, alpha_ = 0, eta_ = 0;
};

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_ZIPF_H_
