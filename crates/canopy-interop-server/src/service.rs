//! The `MLSClient` gRPC service (the working group's `mls_client.proto`) over a
//! [`CanopyClient`]: every RPC unwraps its request, runs the client's synchronous operation
//! and turns an [`InteropError`](crate::InteropError) into a status.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::client::CanopyClient;
use crate::error::InteropError;
use crate::ops::join::NAME;
use crate::proto::mls_client_server::MlsClient;
use crate::proto::*;

/// The `MLSClient` service of one [`CanopyClient`]; clones share the client.
#[derive(Clone, Default)]
pub struct MlsClientService {
    client: Arc<CanopyClient>,
}

impl MlsClientService {
    /// The service of `client`.
    pub fn new(client: Arc<CanopyClient>) -> Self {
        Self { client }
    }

    /// The client behind the service.
    pub fn client(&self) -> &CanopyClient {
        &self.client
    }
}

fn reply<T>(result: Result<T, InteropError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl MlsClient for MlsClientService {
    async fn name(&self, _request: Request<NameRequest>) -> Result<Response<NameResponse>, Status> {
        Ok(Response::new(NameResponse {
            name: NAME.to_string(),
        }))
    }

    async fn supported_ciphersuites(
        &self,
        _request: Request<SupportedCiphersuitesRequest>,
    ) -> Result<Response<SupportedCiphersuitesResponse>, Status> {
        Ok(Response::new(self.client.supported_ciphersuites()))
    }

    async fn create_group(
        &self,
        request: Request<CreateGroupRequest>,
    ) -> Result<Response<CreateGroupResponse>, Status> {
        reply(self.client.create_group(request.into_inner()))
    }

    async fn create_key_package(
        &self,
        request: Request<CreateKeyPackageRequest>,
    ) -> Result<Response<CreateKeyPackageResponse>, Status> {
        reply(self.client.create_key_package(request.into_inner()))
    }

    async fn join_group(
        &self,
        request: Request<JoinGroupRequest>,
    ) -> Result<Response<JoinGroupResponse>, Status> {
        reply(self.client.join_group(request.into_inner()))
    }

    async fn external_join(
        &self,
        request: Request<ExternalJoinRequest>,
    ) -> Result<Response<ExternalJoinResponse>, Status> {
        reply(self.client.external_join(request.into_inner()))
    }

    async fn group_info(
        &self,
        request: Request<GroupInfoRequest>,
    ) -> Result<Response<GroupInfoResponse>, Status> {
        reply(self.client.group_info(request.into_inner()))
    }

    async fn state_auth(
        &self,
        request: Request<StateAuthRequest>,
    ) -> Result<Response<StateAuthResponse>, Status> {
        reply(self.client.state_auth(request.into_inner()))
    }

    async fn export(
        &self,
        request: Request<ExportRequest>,
    ) -> Result<Response<ExportResponse>, Status> {
        reply(self.client.export(request.into_inner()))
    }

    async fn protect(
        &self,
        request: Request<ProtectRequest>,
    ) -> Result<Response<ProtectResponse>, Status> {
        reply(self.client.protect(request.into_inner()))
    }

    async fn unprotect(
        &self,
        request: Request<UnprotectRequest>,
    ) -> Result<Response<UnprotectResponse>, Status> {
        reply(self.client.unprotect(request.into_inner()))
    }

    async fn store_psk(
        &self,
        request: Request<StorePskRequest>,
    ) -> Result<Response<StorePskResponse>, Status> {
        reply(
            self.client
                .store_psk(request.into_inner())
                .map(|()| StorePskResponse {}),
        )
    }

    async fn add_proposal(
        &self,
        request: Request<AddProposalRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(self.client.add_proposal(request.into_inner()))
    }

    async fn update_proposal(
        &self,
        request: Request<UpdateProposalRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(self.client.update_proposal(request.into_inner()))
    }

    async fn remove_proposal(
        &self,
        request: Request<RemoveProposalRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(self.client.remove_proposal(request.into_inner()))
    }

    async fn external_psk_proposal(
        &self,
        request: Request<ExternalPskProposalRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(self.client.external_psk_proposal(request.into_inner()))
    }

    async fn resumption_psk_proposal(
        &self,
        request: Request<ResumptionPskProposalRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(self.client.resumption_psk_proposal(request.into_inner()))
    }

    async fn group_context_extensions_proposal(
        &self,
        request: Request<GroupContextExtensionsProposalRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(
            self.client
                .group_context_extensions_proposal(request.into_inner()),
        )
    }

    async fn commit(
        &self,
        request: Request<CommitRequest>,
    ) -> Result<Response<CommitResponse>, Status> {
        reply(self.client.commit(request.into_inner()))
    }

    async fn handle_commit(
        &self,
        request: Request<HandleCommitRequest>,
    ) -> Result<Response<HandleCommitResponse>, Status> {
        reply(self.client.handle_commit(request.into_inner()))
    }

    async fn handle_pending_commit(
        &self,
        request: Request<HandlePendingCommitRequest>,
    ) -> Result<Response<HandleCommitResponse>, Status> {
        reply(self.client.handle_pending_commit(request.into_inner()))
    }

    async fn re_init_proposal(
        &self,
        request: Request<ReInitProposalRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(self.client.reinit_proposal(request.into_inner()))
    }

    async fn re_init_commit(
        &self,
        request: Request<CommitRequest>,
    ) -> Result<Response<CommitResponse>, Status> {
        reply(self.client.commit(request.into_inner()))
    }

    async fn handle_pending_re_init_commit(
        &self,
        request: Request<HandlePendingCommitRequest>,
    ) -> Result<Response<HandleReInitCommitResponse>, Status> {
        reply(
            self.client
                .handle_pending_reinit_commit(request.into_inner()),
        )
    }

    async fn handle_re_init_commit(
        &self,
        request: Request<HandleCommitRequest>,
    ) -> Result<Response<HandleReInitCommitResponse>, Status> {
        reply(self.client.handle_reinit_commit(request.into_inner()))
    }

    async fn re_init_welcome(
        &self,
        request: Request<ReInitWelcomeRequest>,
    ) -> Result<Response<CreateSubgroupResponse>, Status> {
        reply(self.client.reinit_welcome(request.into_inner()))
    }

    async fn handle_re_init_welcome(
        &self,
        request: Request<HandleReInitWelcomeRequest>,
    ) -> Result<Response<JoinGroupResponse>, Status> {
        reply(self.client.handle_reinit_welcome(request.into_inner()))
    }

    async fn create_branch(
        &self,
        request: Request<CreateBranchRequest>,
    ) -> Result<Response<CreateSubgroupResponse>, Status> {
        reply(self.client.create_branch(request.into_inner()))
    }

    async fn handle_branch(
        &self,
        request: Request<HandleBranchRequest>,
    ) -> Result<Response<HandleBranchResponse>, Status> {
        reply(self.client.handle_branch(request.into_inner()))
    }

    async fn new_member_add_proposal(
        &self,
        request: Request<NewMemberAddProposalRequest>,
    ) -> Result<Response<NewMemberAddProposalResponse>, Status> {
        reply(self.client.new_member_add_proposal(request.into_inner()))
    }

    async fn create_external_signer(
        &self,
        request: Request<CreateExternalSignerRequest>,
    ) -> Result<Response<CreateExternalSignerResponse>, Status> {
        reply(self.client.create_external_signer(request.into_inner()))
    }

    async fn add_external_signer(
        &self,
        request: Request<AddExternalSignerRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(self.client.add_external_signer(request.into_inner()))
    }

    async fn external_signer_proposal(
        &self,
        request: Request<ExternalSignerProposalRequest>,
    ) -> Result<Response<ProposalResponse>, Status> {
        reply(self.client.external_signer_proposal(request.into_inner()))
    }

    async fn free(&self, request: Request<FreeRequest>) -> Result<Response<FreeResponse>, Status> {
        reply(
            self.client
                .free(request.into_inner())
                .map(|()| FreeResponse {}),
        )
    }
}
