#include "client/cli_parse.h"

#include <grpc/grpc.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "client/channel.h"

namespace vocr::client {
namespace {

TEST(ParseSweep, ReadsCommaSeparatedLevelsInOrder) {
  absl::StatusOr<std::vector<int>> levels = ParseSweep("1,2,4,8,16");
  ASSERT_TRUE(levels.ok()) << levels.status();
  EXPECT_EQ(*levels, (std::vector<int>{1, 2, 4, 8, 16}));
}

TEST(ParseSweep, AllowsSpacesAroundEntries) {
  absl::StatusOr<std::vector<int>> levels = ParseSweep(" 32, 8 ,1 ");
  ASSERT_TRUE(levels.ok()) << levels.status();
  EXPECT_EQ(*levels, (std::vector<int>{32, 8, 1}));
}

TEST(ParseSweep, RejectsEmptyZeroNegativeNonNumericAndRepeatedLevels) {
  for (const char* bad : {"", " ", "1,,2", "0", "4,-1", "2,x", "1.5", "1,2,1", "1,"}) {
    EXPECT_EQ(ParseSweep(bad).status().code(), absl::StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
}

TEST(ParseArrival, AcceptsPoissonAndUniformInAnyCase) {
  EXPECT_EQ(*ParseArrival("poisson"), Arrival::kPoisson);
  EXPECT_EQ(*ParseArrival("Uniform"), Arrival::kUniform);
  EXPECT_EQ(ParseArrival("bursty").status().code(), absl::StatusCode::kInvalidArgument);
}

// The value of a string channel argument, or "" when it is not set.
std::string StringArg(const grpc::ChannelArguments& args, const char* key) {
  grpc_channel_args c_args;
  args.SetChannelArgs(&c_args);
  for (size_t i = 0; i < c_args.num_args; ++i) {
    if (std::strcmp(c_args.args[i].key, key) == 0 && c_args.args[i].type == GRPC_ARG_STRING) {
      return c_args.args[i].value.string;
    }
  }
  return "";
}

TEST(MakeChannelArguments, SetsTheLoadBalancingPolicyOnlyWhenAsked) {
  ChannelOptions options;
  absl::StatusOr<grpc::ChannelArguments> plain = MakeChannelArguments(options);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(StringArg(*plain, GRPC_ARG_LB_POLICY_NAME), "");
  options.lb_policy = "round_robin";
  absl::StatusOr<grpc::ChannelArguments> spread = MakeChannelArguments(options);
  ASSERT_TRUE(spread.ok());
  EXPECT_EQ(StringArg(*spread, GRPC_ARG_LB_POLICY_NAME), "round_robin");
}

TEST(MakeChannelArguments, AcceptsRoundRobinAndRejectsUnknownPolicies) {
  ChannelOptions options;
  options.lb_policy = "round_robin";
  EXPECT_TRUE(MakeChannelArguments(options).ok());
  options.lb_policy = "round-robin";
  EXPECT_EQ(MakeChannelArguments(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MakeChannelArguments, RejectsMessageSizesGrpcCannotRepresent) {
  ChannelOptions options;
  options.max_message_mb = 0;
  EXPECT_FALSE(MakeChannelArguments(options).ok());
  options.max_message_mb = 4096;
  EXPECT_FALSE(MakeChannelArguments(options).ok());
}

TEST(MakeChannel, RefusesACertificateWithoutItsKey) {
  ChannelOptions options;
  options.tls_cert = "/some/cert.pem";
  EXPECT_EQ(MakeChannel(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MakeChannel, ReportsAMissingCaFileBeforeAnyCall) {
  ChannelOptions options;
  options.tls_ca = "/nonexistent/ca.pem";
  EXPECT_EQ(MakeChannel(options).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vocr::client
